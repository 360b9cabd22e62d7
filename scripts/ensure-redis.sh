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

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-redis: redis-server is missing and installing it needs root (run: apt-get install -y redis-server)" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-redis: redis-server is missing and apt-get is not available to install it" >&2
  exit 1
fi

echo "ensure-redis: redis-server missing; running apt-get update"
if ! DEBIAN_FRONTEND=noninteractive apt-get update; then
  echo "ensure-redis: apt-get update failed; cannot install redis-server" >&2
  exit 1
fi

echo "ensure-redis: running apt-get install -y --no-install-recommends redis-server"
# policy-rc.d keeps the package from starting its own service: the lab runs its own instances.
if ! DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y --no-install-recommends redis-server; then
  echo "ensure-redis: apt-get install redis-server failed" >&2
  exit 1
fi

if ! command -v "$REDIS" >/dev/null 2>&1; then
  echo "ensure-redis: redis-server installed but not on PATH" >&2
  exit 1
fi

echo "ensure-redis: installed $("$REDIS" --version 2>/dev/null | cut -d' ' -f1-3)"
