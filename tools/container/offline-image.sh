#!/usr/bin/env bash
# Builds the signer-api image from the same Dockerfile as CI on a machine with no Docker engine and
# no access to Docker Hub, then proves the image works:
#   1. base:  a Debian bookworm root filesystem from Debian packages (debootstrap --variant=minbase)
#             plus this machine's Node.js 20 binary and npm — the stand-in for node:20-bookworm-slim;
#   2. build: `buildah bud --isolation chroot` with NODE_IMAGE pointing at that base (npm packages
#             come from the npm registry, as in CI);
#   3. smoke: the image's own root filesystem, mounted read-only, runs its ENTRYPOINT as uid 1000
#             with a writable audit volume only; /healthz must answer 200, then the workspace CLI
#             signs a file through it and verifies the bundle;
#   4. push:  to a local CNCF distribution registry (docker-registry), then inspected with skopeo.
# Needs root and Debian's buildah, debootstrap, docker-registry and skopeo. Docker users run
# `docker build -t stella-ops/signer-api:dev .` instead (docs/operations.md).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-/var/tmp/signer-image}
BASE=${BASE_IMAGE:-localhost/signer-node-base:20-bookworm}
IMAGE=${SIGNER_IMAGE:-localhost/stella-ops/signer-api:dev}
PORT=${SMOKE_PORT:-18480}
REGISTRY_PORT=${REGISTRY_PORT:-5055}
BUILDAH=(buildah --storage-driver vfs)
log() { printf '\n== %s\n' "$*"; }

mkdir -p "$WORK"

if ! "${BUILDAH[@]}" inspect --type image "$BASE" >/dev/null 2>&1; then
  log "base: debootstrap bookworm (minbase) + Node.js $(node --version) from this machine"
  rootfs="$WORK/rootfs"
  rm -rf "$rootfs"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" http://deb.debian.org/debian
  install -m 0755 "$(readlink -f "$(command -v node)")" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$(npm root -g)/npm" "$rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  # The machine's CA bundle, so npm reaches the registry through this network's TLS setup.
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/sh --create-home node
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  ctr=$("${BUILDAH[@]}" from scratch)
  mnt=$("${BUILDAH[@]}" mount "$ctr")
  cp -a "$rootfs"/. "$mnt"/
  "${BUILDAH[@]}" umount "$ctr"
  "${BUILDAH[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NPM_CONFIG_CAFILE=/etc/ssl/certs/ca-certificates.crt --cmd node "$ctr"
  "${BUILDAH[@]}" commit --rm "$ctr" "$BASE"
fi

log "build: buildah bud --isolation chroot, Dockerfile unchanged, NODE_IMAGE=$BASE"
"${BUILDAH[@]}" bud --isolation chroot --pull=never --layers --format docker \
  --build-arg NODE_IMAGE="$BASE" --build-arg APP=signer-api --tag "$IMAGE" "$ROOT"
"${BUILDAH[@]}" inspect --type image --format 'user {{.Docker.Config.User}}, entrypoint {{.Docker.Config.Entrypoint}}, healthcheck {{.Docker.Config.Healthcheck.Test}}' "$IMAGE"

log "smoke: the image's root filesystem, read-only, runs its entrypoint as uid 1000"
ctr=$("${BUILDAH[@]}" from "$IMAGE")
trap '"${BUILDAH[@]}" umount "$ctr" >/dev/null 2>&1 || true; "${BUILDAH[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT
mnt=$("${BUILDAH[@]}" mount "$ctr")
audit="$WORK/audit-volume"
profile="$WORK/profile"
rm -rf "$audit" "$profile" && mkdir -p "$WORK/ro-root" "$audit" && chown 1000:1000 "$audit"
node "$ROOT/tools/build.mjs" embedded-profile signer-cli >/dev/null
node "$ROOT/dist/tools/embedded-profile.js" "$profile" >/dev/null
chown -R 1000:1000 "$profile"
# A private mount namespace: the read-only view and its volumes vanish with it, and nothing
# propagates back to this machine's mounts.
unshare --mount --propagation private env ROOT="$ROOT" WORK="$WORK" MNT="$mnt" PORT="$PORT" \
  AUDIT="$audit" PROFILE="$profile" bash -euo pipefail <<'SMOKE'
ro="$WORK/ro-root"
mount --bind "$MNT" "$ro" && mount -o remount,bind,ro "$ro"
mount --bind "$PROFILE" "$ro/etc/signer" && mount -o remount,bind,ro "$ro/etc/signer"
mount --bind "$AUDIT" "$ro/var/lib/signer"
mount -t proc proc "$ro/proc"
mount --rbind /dev "$ro/dev"
if touch "$ro/app/probe" 2>/dev/null; then echo "root filesystem is writable" >&2; exit 1; fi
env -i PATH=/usr/local/bin:/usr/bin:/bin NODE_ENV=production SIGNER_CONFIG=/etc/signer/signer.yaml \
  SIGNER__SERVER__PORT="$PORT" SIGNER__SERVER__PUBLICBASEURL="http://127.0.0.1:$PORT" \
  SIGNER__AUDIT__FILEPATH=/var/lib/signer/audit.jsonl \
  /usr/sbin/chroot --userspec=1000:1000 "$ro" /bin/sh -c 'cd /app && exec node --enable-source-maps main.js' \
  >"$WORK/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
printf 'GET /healthz -> %s\n' "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")"
printf 'GET /readyz  -> %s\n' "$(curl -s "http://127.0.0.1:$PORT/readyz")"
printf 'HEALTHCHECK  -> exit %s\n' "$(/usr/sbin/chroot --userspec=1000:1000 "$ro" /bin/sh -c \
  "cd /app && SIGNER_HEALTH_URL=http://127.0.0.1:$PORT/healthz node healthcheck.js; echo \$?")"
cd "$WORK" && printf 'offline image smoke test\n' >artifact.txt
node "$ROOT/dist/apps/signer-cli/main.js" sign artifact.txt --profile "$PROFILE" --url "http://127.0.0.1:$PORT"
node "$ROOT/dist/apps/signer-cli/main.js" verify artifact.txt.bundle.json --url "http://127.0.0.1:$PORT"
node "$ROOT/dist/apps/signer-cli/main.js" audit verify "$AUDIT/audit.jsonl"
SMOKE

log "push: local distribution registry on 127.0.0.1:$REGISTRY_PORT"
cat >"$WORK/registry.yml" <<YAML
version: 0.1
storage: { filesystem: { rootdirectory: $WORK/registry }, delete: { enabled: true } }
http: { addr: 127.0.0.1:$REGISTRY_PORT }
YAML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null || true; "${BUILDAH[@]}" umount "$ctr" >/dev/null 2>&1 || true; "${BUILDAH[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$REGISTRY_PORT/v2/" >/dev/null 2>&1 && break; sleep 0.2; done
"${BUILDAH[@]}" push --tls-verify=false "$IMAGE" "docker://127.0.0.1:$REGISTRY_PORT/stella-ops/signer-api:dev"
skopeo inspect --tls-verify=false "docker://127.0.0.1:$REGISTRY_PORT/stella-ops/signer-api:dev" |
  node -e 'const i=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(`pushed ${i.Name}@${i.Digest} (${i.Layers.length} layers)`)'
log "done: $IMAGE built offline, served /healthz, signed and verified, pushed"
