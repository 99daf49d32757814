#!/bin/sh
# The install steps of the Docker images (Dockerfile, Dockerfile.cuda). CI runs this same script in
# a copy of the project (.ci/run, scripts/image-smoke.sh), since no Docker engine is available there.
set -eu
npm ci --omit=dev --no-audit --no-fund
# The default model is built by postinstall; this makes sure it exists (a skipped postinstall builds it here).
node bin/paperhound.js build-model --if-missing --quiet
