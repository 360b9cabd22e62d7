#!/bin/sh
# Make sure Debian's nginx is installed at /usr/sbin/nginx, for `bench --via nginx` and the
# proxy tests. Safe to run again: does nothing when it is already there.
set -eu

NGINX=${NGINX_PATH:-/usr/sbin/nginx}
# What installs a Debian package; LAB_APT_INSTALL stands in for it in the test of this path.
APT_INSTALL=${LAB_APT_INSTALL:-$(dirname "$0")/apt-install.sh}

if [ -x "$NGINX" ]; then
  echo "ensure-nginx: $NGINX present ($("$NGINX" -v 2>&1 || echo 'version unknown'))"
  exit 0
fi

NO_SERVICE_START=1 sh "$APT_INSTALL" ensure-nginx nginx

if [ ! -x "$NGINX" ]; then
  echo "ensure-nginx: nginx installed but $NGINX is not executable" >&2
  exit 1
fi

echo "ensure-nginx: installed $("$NGINX" -v 2>&1 || echo nginx)"
