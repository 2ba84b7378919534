#!/bin/sh
# Starts one node of docker-compose.cluster.yml's NATS cluster: its config (the first argument, one
# of deploy/nats/cluster/nats-<i>.conf) with the route password of YARD_NATS_ROUTE_PASS in place of
# @YARD_NATS_ROUTE_PASS@ (the node dials the others with it), written mode 0600 inside the
# container, then with-js-key.sh (JetStream's key) with the other arguments. The password is never
# printed and never on a command line; it must be 8 or more letters, digits, _ or - (it goes into
# the route URLs).
set -eu
conf="$1"
shift
pw="${YARD_NATS_ROUTE_PASS:-}"
bad() {
  echo "[FTL] YARD_NATS_ROUTE_PASS must be set to 8 or more letters, digits, _ or -" >&2
  exit 1
}
case "$pw" in
  "" | *[!A-Za-z0-9_-]*) bad ;;
esac
[ "${#pw}" -ge 8 ] || bad
umask 077
out="${YARD_NATS_NODE_CONF:-/tmp/yard-nats-node.conf}"
sed "s/@YARD_NATS_ROUTE_PASS@/$pw/g" "$conf" >"$out.new"
mv "$out.new" "$out"
exec /bin/sh "$(dirname "$0")/with-js-key.sh" -c "$out" "$@"
