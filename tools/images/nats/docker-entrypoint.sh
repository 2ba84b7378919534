#!/bin/sh
# As the official nats image's entrypoint: options alone (`-js --user test …`) run nats-server
# with them; anything else runs as given.
set -e
case "${1:-}" in
  -*) set -- nats-server "$@" ;;
esac
exec "$@"
