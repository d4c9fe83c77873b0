# syntax=docker/dockerfile:1
# Build stage: install everything, compile TypeScript.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
RUN npm run build && npm prune --omit=dev

# Runtime stage: production dependencies and the compiled app, as a non-root user.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
# Readiness, not liveness: Docker's health status is what `depends_on: service_healthy` and
# Docker-aware proxies route on, and plain Docker (not Swarm) never restarts an unhealthy container, so
# a database outage takes the API out of rotation without a restart loop. /health/ready fails when the database does not answer a
# ping within 1.5 s, the heap is above HEALTH_MAX_HEAP_MB, or, with CACHE_BACKEND=redis only, Redis does
# not answer within REDIS_COMMAND_TIMEOUT_MS; both deadlines fit in the 3 s timeout. (An orchestrator
# that restarts on failure, such as Kubernetes, probes /health/live for liveness itself.)
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/apps/api/src/main.js"]
