#!/bin/sh
# Starts nats-server (arguments passed on) with JetStream's encryption key in YARD_NATS_JS_KEY,
# which deploy/nats/server.conf reads. docker-compose.yml's nats service runs it (busybox sh).
#
# - YARD_NATS_JS_KEY set (from .env or the environment): that key is used.
# - Unset or empty: the key in YARD_NATS_JS_KEY_FILE (/var/lib/yard-nats-key/js.key, its own
#   volume, apart from the store) is used; on the first start a random one is made there (0600).
#   An empty key must never reach nats-server: it would run without encryption.
# - No key file but an encrypted store (YARD_NATS_STORE_DIR, /data): the key was lost. Refuse,
#   saying what to do, instead of starting with a key that cannot read the store.
# nats-server parses the variable's value as a config value: a key must be a letter, then
# letters, digits, _ or -, 32 or more in all (as tools/up/src/state-secrets.ts makes them).
# The key is never printed and never on a command line.
set -eu
key_file="${YARD_NATS_JS_KEY_FILE:-/var/lib/yard-nats-key/js.key}"
store="${YARD_NATS_STORE_DIR:-/data}"

fail() {
  echo "[FTL] $*" >&2
  exit 1
}

if [ -z "${YARD_NATS_JS_KEY:-}" ]; then
  if [ ! -s "$key_file" ]; then
    for f in "$store"/jetstream/*/streams/*/meta.key; do
      [ -e "$f" ] && fail "the JetStream store in $store is encrypted, but its key file $key_file is gone. Put the key back (or set YARD_NATS_JS_KEY to it), or remove the store to start empty (docs/deploy.md)."
    done
    mkdir -p "$(dirname "$key_file")"
    umask 077
    printf 'k%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$key_file.new"
    mv "$key_file.new" "$key_file"
    echo "[INF] made a JetStream encryption key in $key_file" >&2
  fi
  YARD_NATS_JS_KEY="$(head -n 1 "$key_file")"
  where="the key file $key_file"
else
  where="YARD_NATS_JS_KEY"
fi
case "$YARD_NATS_JS_KEY" in
  [A-Za-z]*) ;;
  *) fail "$where does not hold a key nats-server can read (a letter, then letters, digits, _ or -, 32 characters or more)" ;;
esac
case "$YARD_NATS_JS_KEY" in
  *[!A-Za-z0-9_-]*) fail "$where does not hold a key nats-server can read (a letter, then letters, digits, _ or -, 32 characters or more)" ;;
esac
[ "${#YARD_NATS_JS_KEY}" -ge 32 ] || fail "$where does not hold a key nats-server can read (a letter, then letters, digits, _ or -, 32 characters or more)"
export YARD_NATS_JS_KEY
exec "${NATS_SERVER_BIN:-nats-server}" "$@"
