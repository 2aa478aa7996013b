# autobatch: the auto-batching proxy, as a container that listens on port 3000.
#
#   docker build -t autobatch .
#   docker run --rm -p 3000:3000 -e AUTOBATCH_UPSTREAM=http://tei:80 autobatch
#
# Every option comes from an AUTOBATCH_<NAME> variable (see `docker run --rm autobatch --help`);
# flags after the image name work too. Keep the port in AUTOBATCH_PORT: the health check reads it.

ARG NODE_VERSION=24

# ---- build: compile, then lay out exactly what the npm package ships plus its production deps
FROM node:${NODE_VERSION}-slim AS build
WORKDIR /src

# Dependencies first, so that a source change does not reinstall them. --ignore-scripts: the
# project's `prepare` would compile before the sources are here, and no dependency needs an
# install script to build or run autobatch.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src

# `npm pack` applies package.json's "files", so the image holds the same files as the published
# package (no tests, sources, maps or simulator); its test checks that nothing shipped is left out.
RUN npm run build \
 && npm pack --ignore-scripts --pack-destination /tmp \
 && mkdir /app \
 && tar -xzf /tmp/autobatch-*.tgz -C /app --strip-components=1 \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && mv node_modules /app/node_modules

# ---- runtime
FROM node:${NODE_VERSION}-slim
ENV NODE_ENV=production \
    AUTOBATCH_HOST=0.0.0.0 \
    AUTOBATCH_PORT=3000 \
    AUTOBATCH_LOG_FORMAT=json
WORKDIR /app
# Owned by root and read-only to the user the proxy runs as.
COPY --from=build /app ./
USER node
EXPOSE 3000

# The slim image has no curl: Node's own fetch asks the proxy whether it is up. (Liveness only:
# /autobatch/ready also asks the upstream, which belongs in the orchestrator's readiness probe.)
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.AUTOBATCH_PORT || 3000) + '/autobatch/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# The CLI stops cleanly on SIGTERM (it sends what is queued first), so it runs as PID 1 directly.
ENTRYPOINT ["node", "/app/bin/autobatch.js"]
