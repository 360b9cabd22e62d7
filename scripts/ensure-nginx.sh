#!/bin/sh
# Make sure Debian's nginx is installed at /usr/sbin/nginx, for `bench --via nginx` and the
# proxy tests. Safe to run again: does nothing when it is already there.
set -eu

NGINX=${NGINX_PATH:-/usr/sbin/nginx}

if [ -x "$NGINX" ]; then
  echo "ensure-nginx: $NGINX present ($("$NGINX" -v 2>&1 || echo 'version unknown'))"
  exit 0
fi

NO_SERVICE_START=1 sh "$(dirname "$0")/apt-install.sh" ensure-nginx nginx

if [ ! -x "$NGINX" ]; then
  echo "ensure-nginx: nginx installed but $NGINX is not executable" >&2
  exit 1
fi

echo "ensure-nginx: installed $("$NGINX" -v 2>&1 || echo nginx)"
