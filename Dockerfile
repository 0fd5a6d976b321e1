# Production image: `docker build -t switchboard .` (or `docker-compose up -d`, see docker-compose.yml).
# Configuration comes from the environment (docs/configuration.md); NODE_ENV=production makes the
# gateway refuse to start without an API key and a JWT secret/key instead of generating them.
ARG NODE_IMAGE=node:20-bookworm-slim

# Build: all dependencies (TypeScript, tsup), then tsc into dist/ and the Client SDK (the workspace package
# packages/client, whose browser bundle the gateway serves) into packages/client/dist/. better-sqlite3 (the
# SQLite client registry) compiles its native addon from source, so this stage has the build tools.
FROM ${NODE_IMAGE} AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/client/package.json ./packages/client/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY packages/client/tsup.config.ts ./packages/client/
COPY packages/client/src ./packages/client/src
RUN npm run build
# Production dependencies only, with their install scripts (the compiled addon comes along).
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# Runtime: no compiler, no dev dependencies.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The Client SDK's build: its bundle is served at /client/switchboard.min.js (CLIENT_BUNDLE=false turns it off);
# its package.json keeps node_modules/@switchboard/client, a workspace link, pointing somewhere.
COPY --from=build /app/packages/client/package.json ./packages/client/
COPY --from=build /app/packages/client/dist ./packages/client/dist
# The admin dashboard's pages, styles and scripts (served at /admin; ADMIN_UI=false turns it off).
COPY admin-ui ./admin-ui
# Files stay owned by root: the gateway can read its code but not change it. DATA_DIR (./data: SQLite
# for the client registry and the auth service's users without DATABASE_URL) is the one writable place;
# mount a volume there to keep it.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
# The auth service (AUTH_PORT), when it runs on its own port.
EXPOSE 4000
# /healthz answers while the process is alive (readiness is /readyz). Slim images have no curl: use Node's fetch.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
