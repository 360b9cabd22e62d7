#!/bin/sh
# Make sure Debian's nginx is installed at /usr/sbin/nginx, for `bench --via nginx` and the
# proxy tests. Safe to run again: does nothing when it is already there.
set -eu

NGINX=${NGINX_PATH:-/usr/sbin/nginx}

if [ -x "$NGINX" ]; then
  echo "ensure-nginx: $NGINX present ($("$NGINX" -v 2>&1 || echo 'version unknown'))"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-nginx: $NGINX is missing and installing it needs root (run: apt-get install -y nginx)" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-nginx: $NGINX is missing and apt-get is not available to install it" >&2
  exit 1
fi

echo "ensure-nginx: $NGINX missing; running apt-get update"
if ! DEBIAN_FRONTEND=noninteractive apt-get update; then
  echo "ensure-nginx: apt-get update failed; cannot install nginx" >&2
  exit 1
fi

# The lab starts its own nginx on a free port with its own config; the package's service (port 80)
# must not start on installation, so policy-rc.d refuses it for the length of the install.
POLICY=/usr/sbin/policy-rc.d
OWN_POLICY=no
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$POLICY"
  chmod +x "$POLICY"
  OWN_POLICY=yes
fi
echo "ensure-nginx: running apt-get install -y --no-install-recommends nginx"
STATUS=0
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx || STATUS=$?
if [ "$OWN_POLICY" = yes ]; then rm -f "$POLICY"; fi
if [ "$STATUS" -ne 0 ]; then
  echo "ensure-nginx: apt-get install nginx failed" >&2
  exit 1
fi

if [ ! -x "$NGINX" ]; then
  echo "ensure-nginx: nginx installed but $NGINX is not executable" >&2
  exit 1
fi

echo "ensure-nginx: installed $("$NGINX" -v 2>&1 || echo nginx)"
