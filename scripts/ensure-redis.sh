#!/bin/sh
# Make sure Debian's redis-server is installed, for runs with --nodes (the backplane)
# and load agents. Safe to run again: does nothing when it is already there. The lab
# starts and stops its own redis-server on a free port; the Debian service is not used.
set -eu

REDIS=${REDIS_SERVER_PATH:-redis-server}

if command -v "$REDIS" >/dev/null 2>&1; then
  echo "ensure-redis: $(command -v "$REDIS") present ($("$REDIS" --version 2>/dev/null | cut -d' ' -f1-3))"
  exit 0
fi

NO_SERVICE_START=1 sh "$(dirname "$0")/apt-install.sh" ensure-redis redis-server

if ! command -v "$REDIS" >/dev/null 2>&1; then
  echo "ensure-redis: redis-server installed but not on PATH" >&2
  exit 1
fi

echo "ensure-redis: installed $("$REDIS" --version 2>/dev/null | cut -d' ' -f1-3)"
