#!/bin/sh
# What the Docker images do, without Docker: copy the files the Dockerfile copies into an empty
# directory, run the image's install script there, start `paperhound bot` with the image's settings
# (health endpoint on), and run the image's HEALTHCHECK command until it passes. Used by .ci/run.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill "$bot" 2>/dev/null || true; rm -rf "$work"' EXIT
app="$work/app"
mkdir -p "$app" "$work/data"
cd "$root"
cp -R package.json package-lock.json .npmrc bin src commands scripts data weights tsconfig.json slack-manifest.json "$app/"
cd "$app"
sh scripts/image-install.sh
# A first index, as the compose file's indexer makes one (the bot refuses an empty index).
node bin/paperhound.js index "$root/test/fixtures/cli-papers.jsonl" --index "$work/data/index"
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
# The image's environment (Dockerfile ENV), with the health port free on this machine; stdin held
# open so the console mode (no chat tokens here) keeps running.
mkfifo "$work/stdin"
PAPERHOUND_INDEX="$work/data/index" HEALTH_PORT="$port" HEALTH_HOST=127.0.0.1 LOG_FORMAT=json DIGEST_INGEST=0 \
  node bin/paperhound.js bot < "$work/stdin" > "$work/bot.log" 2>&1 &
bot=$!
exec 3> "$work/stdin"
# The Dockerfile's HEALTHCHECK command, with the port above.
check=$(sed -n 's/^ *CMD node -e "\(.*\)"$/\1/p' "$root/Dockerfile" | sed "s/8080/$port/")
[ -n "$check" ] || { echo "image-smoke: no HEALTHCHECK command found in the Dockerfile"; exit 1; }
for i in $(seq 1 90); do
  if node -e "$check"; then
    echo "image-smoke: install steps done, bot healthy on /healthz after ${i}s"
    # Stopped as Docker stops a container: SIGTERM, then a clean exit 0.
    kill -TERM "$bot"
    wait "$bot" || { echo "image-smoke: the bot did not exit cleanly on SIGTERM"; cat "$work/bot.log"; exit 1; }
    exec 3>&-
    exit 0
  fi
  kill -0 "$bot" 2>/dev/null || { echo "image-smoke: the bot exited before it was healthy"; cat "$work/bot.log"; exit 1; }
  sleep 1
done
echo "image-smoke: not healthy after 90 s"; cat "$work/bot.log"; exit 1
