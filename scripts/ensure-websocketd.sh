#!/bin/sh
# Make sure Debian's websocketd (Go, gorilla/websocket) is installed, for the `websocketd`
# peer row and its tests. Safe to run again: does nothing when it is already there.
set -eu

WEBSOCKETD=${WEBSOCKETD_PATH:-/usr/bin/websocketd}

if [ -x "$WEBSOCKETD" ]; then
  echo "ensure-websocketd: $WEBSOCKETD present ($("$WEBSOCKETD" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

sh "$(dirname "$0")/apt-install.sh" ensure-websocketd websocketd

if [ ! -x "$WEBSOCKETD" ]; then
  echo "ensure-websocketd: websocketd installed but $WEBSOCKETD is not executable" >&2
  exit 1
fi

echo "ensure-websocketd: installed $("$WEBSOCKETD" --version 2>/dev/null || echo websocketd)"
