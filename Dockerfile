# Production image: `docker build -t switchboard .` (or `docker-compose up -d`, see docker-compose.yml).
# Configuration comes from the environment (README, "Configuration"); NODE_ENV=production makes the
# gateway refuse to start without an API key and a JWT secret/key instead of generating them.
ARG NODE_IMAGE=node:20-bookworm-slim

# Build: all dependencies (TypeScript), then tsc into dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime: production dependencies only. No runtime dependency has an install script (only esbuild, a
# dev dependency, does), so scripts stay off.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Files stay owned by root: the gateway can read its code but not change it.
USER node
EXPOSE 3000
# /healthz answers while the process is alive (readiness is /readyz). Slim images have no curl: use Node's fetch.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
