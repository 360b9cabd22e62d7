#!/bin/sh
# Installs Debian packages for the ensure-*.sh scripts: root and apt-get are checked first,
# `apt-get update` runs before the install, and no recommended packages come along.
# With NO_SERVICE_START=1 the packages' own services are kept from starting (policy-rc.d
# answers 101 for the length of the install): the lab runs its own instances on free ports.
#   sh scripts/apt-install.sh TAG PACKAGE...      (TAG prefixes every line it prints)
set -eu

TAG=$1
shift

if [ "$(id -u)" -ne 0 ]; then
  echo "$TAG: installing $* needs root (run: apt-get install -y $*)" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "$TAG: apt-get is not available to install $*" >&2
  exit 1
fi

echo "$TAG: running apt-get update"
if ! DEBIAN_FRONTEND=noninteractive apt-get update; then
  echo "$TAG: apt-get update failed; cannot install $*" >&2
  exit 1
fi

POLICY=/usr/sbin/policy-rc.d
OWN_POLICY=no
if [ "${NO_SERVICE_START:-0}" = 1 ] && [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$POLICY"
  chmod +x "$POLICY"
  OWN_POLICY=yes
fi
echo "$TAG: running apt-get install -y --no-install-recommends $*"
STATUS=0
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" || STATUS=$?
if [ "$OWN_POLICY" = yes ]; then rm -f "$POLICY"; fi
if [ "$STATUS" -ne 0 ]; then
  echo "$TAG: apt-get install $* failed" >&2
  exit 1
fi
