# syntax=docker/dockerfile:1
# Stella Ops Signer service image (signer-api). Multi-stage: build with the full toolchain,
# run on production dependencies only, as a non-root user, on a read-only root filesystem.
#
#   docker build -t stella-ops/signer-api:dev .                 (or: npx nx run signer-api:container)
#   docker run --read-only -v $PWD/signer.yaml:/etc/signer/signer.yaml:ro \
#     -v signer-audit:/var/lib/signer -p 8080:8080 stella-ops/signer-api:dev
#
# NODE_IMAGE is any Debian-based Node.js 20 image with a shell; CI uses the official one. APP is
# the Nx project whose bundle the image runs (tools/build.mjs names the entries).
ARG NODE_IMAGE=node:20.20.2-bookworm-slim
ARG APP=signer-api

FROM ${NODE_IMAGE} AS build
ARG APP
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.base.json ./
COPY tools/build.mjs tools/build.mjs
COPY libs libs
COPY apps apps
# The `signer` CLI ships in the same image, so an operator can run `signer audit verify` in the pod.
RUN node tools/build.mjs "${APP}" signer-cli

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
# The PKCS#11 binding (pkcs11js) is a native addon: the one install script allowed (package.json
# `allowScripts`), built in this stage, whose toolchain never reaches the runtime stage. Only the
# compiled addon travels with node_modules; the HSM vendor's module (.so) is mounted or added
# by the operator's own image layer and named by the key's `module-path`.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
 && npm rebuild pkcs11js \
 && node -e "require('pkcs11js')"

FROM ${NODE_IMAGE} AS runtime
ARG APP
LABEL org.opencontainers.image.title="stella-ops-${APP}" \
      org.opencontainers.image.description="Stella Ops Signer: the one service allowed to produce Stella Ops verified signatures" \
      org.opencontainers.image.licenses="UNLICENSED"
ENV NODE_ENV=production \
    SIGNER_CONFIG=/etc/signer/signer.yaml \
    SIGNER_HEALTH_URL=http://127.0.0.1:8080/healthz
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=prod-deps /app/package.json ./package.json
COPY --from=build /src/dist/apps/${APP}/ ./
COPY tools/container/healthcheck.js ./healthcheck.js
COPY --from=build /src/dist/apps/signer-cli/main.js ./cli/signer.js
# `signer` on PATH; it resolves its packages from /app/node_modules (symlinks resolve to /app/cli).
RUN chmod 0755 /app/cli/signer.js && ln -s /app/cli/signer.js /usr/local/bin/signer
# Config arrives on a read-only mount; the only writable path is the file audit trail's volume
# (unused with audit.sink: postgres). Nothing else is written at run time.
RUN mkdir -p /etc/signer /var/lib/signer && chown 1000:1000 /var/lib/signer && chmod 0700 /var/lib/signer
VOLUME ["/var/lib/signer"]
# uid 1000 is the base image's unprivileged `node` user; numeric so runAsNonRoot can check it.
USER 1000:1000
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 CMD ["node", "healthcheck.js"]
ENTRYPOINT ["node", "--enable-source-maps", "main.js"]
