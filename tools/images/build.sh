#!/usr/bin/env bash
# pnpm images: builds, with no image registry, the images docker-compose.yml, the Docker
# suites and the test kit's container NATS need:
#
#   switchyard/debian:bookworm-minbase  debootstrap --variant=minbase bookworm | docker import
#   node:20-bookworm-slim               stand-in: that base + this machine's Node 20 and npm
#   nats:2.10-alpine (also nats:2.10)   stand-in: that base + Debian's nats-server and wget
#   switchyard:local                    the repo's Dockerfile (classic builder, DOCKER_BUILDKIT=0)
#
# Each image carries a label with a hash of its inputs (the base's suite, variant and mirror; the
# Node binary; the stand-ins' files; the repo's files) and is rebuilt only when that hash changes
# or with --force. The debootstrap tarball is kept in YARD_IMAGES_CACHE
# (/var/cache/switchyard/images), outside the clone, so a machine whose Docker store was wiped
# imports it again instead of bootstrapping. Needs root (debootstrap), docker, debootstrap.
#
# Usage: pnpm images [--force] [--standins]   (--standins: everything but switchyard:local)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
here="$repo/tools/images"
cache="${YARD_IMAGES_CACHE:-/var/cache/switchyard/images}"
suite=bookworm
variant=minbase
label=org.switchyard.images.key
base_image="switchyard/debian:$suite-$variant"
# Bump when step_base makes a different image from the same suite, variant and mirror.
base_recipe=1
export DOCKER_BUILDKIT=0

force=0
standins=0
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    --standins) standins=1 ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "images: unknown argument $a (see --help)" >&2; exit 2 ;;
  esac
done

for tool in docker debootstrap sha256sum; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
    echo "images: $tool is missing (Debian: apt-get install docker.io debootstrap)" >&2
    exit 1
  }
done
export PATH="$PATH:/usr/sbin"
docker info >/dev/null 2>&1 || { echo "images: no Docker engine answers (start dockerd)" >&2; exit 1; }

mkdir -p "$cache"
# One build at a time per machine (CI and a developer, two clones).
exec 9>"$cache/.lock"
flock 9

started=$(date +%s)
took() { echo "$(($(date +%s) - $1)) s"; }
hash() { sha256sum | cut -c1-16; }
key_of() { docker image inspect -f "{{index .Config.Labels \"$label\"}}" "$1" 2>/dev/null || true; }
id_of() { docker image inspect -f '{{.Id}}' "$1"; }
fresh() { [ "$force" = 0 ] && [ "$(key_of "$1")" = "$2" ]; }
# docker build NAME ARGS...: its output goes to $cache/NAME-build.log, shown when it fails.
build() {
  local name=$1 log="$cache/$1-build.log"
  shift
  if ! docker build --network host "$@" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "images: building $name failed (full log: $log)" >&2
    exit 1
  fi
}

# The Debian mirror this machine's apt uses for $suite: the first enabled deb822 stanza in
# /etc/apt/sources.list.d/*.sources (or one-line entry in *.list / sources.list) naming it.
mirror() {
  if [ -n "${YARD_IMAGES_MIRROR:-}" ]; then echo "$YARD_IMAGES_MIRROR"; return; fi
  local m=""
  shopt -s nullglob
  local sources=(/etc/apt/sources.list.d/*.sources)
  if [ ${#sources[@]} -gt 0 ]; then
    m=$(awk -v suite="$suite" '
      BEGIN { RS = ""; FS = "\n" }
      {
        uri = ""; ok_suite = 0; ok_type = 0; enabled = 1
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^[ \t]*#/) continue
          if (line ~ /^URIs:/) { split(substr(line, 6), u, " "); for (k in u) if (u[k] != "") { uri = u[k]; break } }
          if (line ~ /^Suites:/) { n = split(substr(line, 8), s, " "); for (k = 1; k <= n; k++) if (s[k] == suite) ok_suite = 1 }
          if (line ~ /^Types:/ && line ~ /(^|[ \t])deb([ \t]|$)/) ok_type = 1
          if (line ~ /^Enabled:[ \t]*no/) enabled = 0
        }
        if (uri != "" && ok_suite && ok_type && enabled) { print uri; exit }
      }' "${sources[@]}")
  fi
  if [ -z "$m" ]; then
    m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk -v suite="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) == suite) { print $i; exit } }')
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

# --- 1. base: debootstrap minbase, imported ---------------------------------------------------
step_base() {
  local t0 mirror key tarball root
  t0=$(date +%s)
  mirror=$(mirror)
  key=$(printf '%s\n' "$suite" "$variant" "$mirror" "$base_recipe" | hash)
  if fresh "$base_image" "$key"; then
    echo "images: [1/4] $base_image is up to date"
    return
  fi
  tarball="$cache/debian-$suite-$variant-$key.tar"
  if [ "$force" = 1 ] || [ ! -s "$tarball" ]; then
    echo "images: [1/4] debootstrap --variant=$variant $suite from $mirror (about a minute) ..."
    root=$(mktemp -d "$cache/rootfs.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$root'" EXIT
    if ! debootstrap --variant="$variant" "$suite" "$root" "$mirror" >"$cache/debootstrap.log" 2>&1; then
      tail -n 20 "$cache/debootstrap.log" >&2
      echo "images: debootstrap failed (full log: $cache/debootstrap.log)" >&2
      exit 1
    fi
    # What a container image does without: downloaded packages and package lists.
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
    tar -C "$root" --numeric-owner -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
    trap - EXIT
    # Older tarballs (another mirror or script version) are not needed any more.
    find "$cache" -maxdepth 1 -name "debian-$suite-$variant-*.tar" ! -name "$(basename "$tarball")" -delete
  else
    echo "images: [1/4] importing the cached $tarball ..."
  fi
  docker import \
    --change "LABEL $label=$key" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    "$tarball" "$base_image" >/dev/null
  echo "images: [1/4] $base_image built in $(took "$t0")"
}

# --- 2. node:20-bookworm-slim stand-in ---------------------------------------------------------
step_node() {
  local t0 node version npm ctx key
  t0=$(date +%s)
  node=$(readlink -f "${YARD_IMAGES_NODE:-$(command -v node)}")
  version=$("$node" --version)
  case "$version" in
    v20.*) ;;
    *) echo "images: node:20-bookworm-slim needs a Node 20 binary; $node is $version (set YARD_IMAGES_NODE)" >&2; exit 1 ;;
  esac
  npm="$(dirname "$node")/../lib/node_modules/npm"
  [ -f "$npm/package.json" ] || { echo "images: npm not found beside $node ($npm)" >&2; exit 1; }
  ctx=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$ctx'" EXIT
  cat ${YARD_IMAGES_HOST_CA:-/usr/local/share/ca-certificates/*.crt} >"$ctx/host-ca.pem" 2>/dev/null || true
  key=$(printf '%s\n' "$(id_of "$base_image")" "$(sha256sum <"$node")" "$(sha256sum <"$ctx/host-ca.pem")" \
    "$(cd "$npm" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)" \
    "$(cat "$here/node/Dockerfile")" | hash)
  if fresh node:20-bookworm-slim "$key"; then
    echo "images: [2/4] node:20-bookworm-slim (stand-in, $version) is up to date"
    rm -rf "$ctx"
    trap - EXIT
    return
  fi
  echo "images: [2/4] node:20-bookworm-slim (stand-in: $node $version) ..."
  cp "$here/node/Dockerfile" "$ctx/"
  cp "$node" "$ctx/node"
  cp -a "$npm" "$ctx/npm"
  build node --build-arg BASE="$base_image" --build-arg NODE_VERSION="${version#v}" \
    --build-arg HOST_CA="$([ -s "$ctx/host-ca.pem" ] && echo /etc/ssl/host-ca.pem)" \
    --label "$label=$key" -t node:20-bookworm-slim "$ctx"
  rm -rf "$ctx"
  trap - EXIT
  echo "images: [2/4] node:20-bookworm-slim built in $(took "$t0")"
}

# --- 3. nats:2.10-alpine stand-in ---------------------------------------------------------------
step_nats() {
  local t0 key
  t0=$(date +%s)
  key=$(printf '%s\n' "$(id_of "$base_image")" "$(cd "$here/nats" && sha256sum Dockerfile docker-entrypoint.sh nats-server.conf)" | hash)
  if fresh nats:2.10-alpine "$key" && [ "$(key_of nats:2.10)" = "$key" ]; then
    echo "images: [3/4] nats:2.10-alpine (stand-in) is up to date"
    return
  fi
  echo "images: [3/4] nats:2.10-alpine (stand-in: Debian's nats-server) ..."
  build nats --build-arg BASE="$base_image" --label "$label=$key" \
    -t nats:2.10-alpine -t nats:2.10 "$here/nats"
  echo "images: [3/4] nats:2.10-alpine built ($(docker run --rm nats:2.10-alpine nats-server --version)) in $(took "$t0")"
}

# --- 4. switchyard:local from the repo's Dockerfile ---------------------------------------------
step_switchyard() {
  local t0 key
  t0=$(date +%s)
  # Every file git would see (tracked, or untracked and not ignored): a superset of the build
  # context (.dockerignore), so a change that can reach the image always rebuilds it.
  key=$(printf '%s\n' "$(id_of node:20-bookworm-slim)" \
    "$(cd "$repo" && git ls-files -z -co --exclude-standard | sort -zu | xargs -0 -r sha256sum -- 2>/dev/null || true)" | hash)
  if fresh switchyard:local "$key"; then
    echo "images: [4/4] switchyard:local is up to date"
    return
  fi
  echo "images: [4/4] switchyard:local from $repo/Dockerfile (pnpm fetch + install inside) ..."
  build switchyard --label "$label=$key" -t switchyard:local "$repo"
  echo "images: [4/4] switchyard:local built in $(took "$t0")"
}

step_base
step_node
step_nats
[ "$standins" = 1 ] || step_switchyard
echo "images: done in $(took "$started")"
