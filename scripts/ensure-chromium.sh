#!/bin/sh
# Make sure Debian's chromium is installed at /usr/bin/chromium, for the report
# and demo browser tests. Safe to run again: does nothing when it is already there.
set -eu

CHROMIUM=${CHROMIUM_PATH:-/usr/bin/chromium}

if [ -x "$CHROMIUM" ]; then
  echo "ensure-chromium: $CHROMIUM present ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: $CHROMIUM is missing and installing it needs root (run: apt-get install -y chromium)" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM is missing and apt-get is not available to install it" >&2
  exit 1
fi

echo "ensure-chromium: $CHROMIUM missing; running apt-get update"
if ! DEBIAN_FRONTEND=noninteractive apt-get update; then
  echo "ensure-chromium: apt-get update failed; cannot install chromium" >&2
  exit 1
fi

echo "ensure-chromium: running apt-get install -y --no-install-recommends chromium"
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; then
  echo "ensure-chromium: apt-get install chromium failed" >&2
  exit 1
fi

if [ ! -x "$CHROMIUM" ]; then
  echo "ensure-chromium: chromium installed but $CHROMIUM is not executable" >&2
  exit 1
fi

echo "ensure-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)"
