# One image for every Switchyard service; the command picks the service:
#   node services/proxy/dist/main.mjs               the proxy, from its bundle (built below)
#   node --import tsx services/<svc>/src/main.ts    spec, provisioner, prober, autoscaler
# It also holds the `yard` CLI (/usr/local/bin/yard) and the fake OpenAI engine (the vLLM
# stand-in the local provisioner backend runs in the example). See docs/deploy.md.

# --- deps: the workspace's dependencies, installed exactly as locked ----------------------
FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN npm i -g -E pnpm@12.4.2
# The lockfile alone is enough to download every package: this layer is reused until it changes.
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
RUN pnpm fetch
COPY . .
# TypeScript runs through tsx, so tsx and the workspace links are needed at run time; the
# install is the full, frozen one.
RUN pnpm install --offline --frozen-lockfile
# The proxy runs from one esbuild bundle (tools/build: it boots ~3x faster than through tsx),
# built here from the sources just copied; .dockerignore keeps any local dist/ out of the context.
RUN pnpm build

# --- runtime ------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime
# bash: replicas' `setup`/`run` run with bash. tini: PID 1 that forwards SIGTERM and reaps
# the replica processes the provisioner starts (the image's own init, so docker-compose.yml sets
# no `init: true`: one init, not two).
RUN apt-get update \
  && apt-get install -y --no-install-recommends bash tini ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app /app
# `yard` from any working directory (paths given to it stay relative to where it runs).
RUN printf '#!/bin/sh\nexec node --import /app/node_modules/tsx/dist/loader.mjs /app/cli/src/main.ts "$@"\n' \
    > /usr/local/bin/yard \
  && chmod 0755 /usr/local/bin/yard \
  && mkdir -p /data/yard && chown node:node /data/yard
ENV NODE_ENV=production \
  PATH=/app/node_modules/.bin:$PATH \
  YARD_STATE_DIR=/data/yard
# Non-root: the image's `node` user (uid 1000). Only /data/yard is writable by it.
USER node
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["yard", "--help"]
