#!/bin/sh
# Make sure Debian's websocketd (Go, gorilla/websocket) is installed, for the `websocketd`
# peer row and its tests. Safe to run again: does nothing when it is already there.
set -eu

WEBSOCKETD=${WEBSOCKETD_PATH:-/usr/bin/websocketd}

if [ -x "$WEBSOCKETD" ]; then
  echo "ensure-websocketd: $WEBSOCKETD present ($("$WEBSOCKETD" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-websocketd: $WEBSOCKETD is missing and installing it needs root (run: apt-get install -y websocketd)" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-websocketd: $WEBSOCKETD is missing and apt-get is not available to install it" >&2
  exit 1
fi

echo "ensure-websocketd: $WEBSOCKETD missing; running apt-get update"
if ! DEBIAN_FRONTEND=noninteractive apt-get update; then
  echo "ensure-websocketd: apt-get update failed; cannot install websocketd" >&2
  exit 1
fi

echo "ensure-websocketd: running apt-get install -y --no-install-recommends websocketd"
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends websocketd; then
  echo "ensure-websocketd: apt-get install websocketd failed" >&2
  exit 1
fi

if [ ! -x "$WEBSOCKETD" ]; then
  echo "ensure-websocketd: websocketd installed but $WEBSOCKETD is not executable" >&2
  exit 1
fi

echo "ensure-websocketd: installed $("$WEBSOCKETD" --version 2>/dev/null || echo websocketd)"
