# Minimal CPU image; the shipping issue adds the GPU image, health checks and a non-root user.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY bin ./bin
COPY src ./src
COPY scripts ./scripts
COPY tsconfig.json ./
# postinstall builds the default model into models/use-lite (offline, from the npm package).
RUN npm ci --omit=dev
ENTRYPOINT ["node", "bin/paperhound.js"]
CMD ["--help"]
