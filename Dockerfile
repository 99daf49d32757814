# paperhound, CPU image. Build: docker build -t paperhound .
# GPU image: docker build -f Dockerfile.cuda -t paperhound:cuda .
FROM node:20-bookworm-slim
# hnswlib-node always compiles from source (it ships no prebuilt binaries); better-sqlite3 does when its prebuilt binary cannot be downloaded.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY bin ./bin
COPY src ./src
COPY commands ./commands
COPY scripts ./scripts
COPY data ./data
COPY weights ./weights
COPY tsconfig.json slack-manifest.json ./
# postinstall builds the embedding models into models/ (offline) and hnswlib-node's AVX2 build, which the
# image uses only on CPUs that have AVX2 and FMA (checked at start; elsewhere the stock build).
# The same install steps CI runs without Docker (scripts/image-smoke.sh).
RUN sh scripts/image-install.sh \
 && mkdir -p /data && chown -R node:node /data /app/models
USER node
ENV PAPERHOUND_INDEX=/data/index HEALTH_PORT=8080 HEALTH_HOST=0.0.0.0 LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/paperhound.js"]
CMD ["bot"]
