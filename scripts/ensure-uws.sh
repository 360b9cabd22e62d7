#!/bin/sh
# Make sure uWebSockets.js is installed in the project's cache (.cache/uws, git-ignored), for
# the `uws` peer row and its tests; not part of `npm install`, since its package carries the
# binaries of every platform (about 100 MB). Safe to run again: does nothing when it is there.
#
# Its official builds are published in uNetworking's repository, not on the npm registry. This
# script asks the registry for `uWebSockets.js` first and, failing that, installs the package
# `uwebsockets` at the version whose contents were checked (see README: the peer rows).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${LAB_UWS_DIR:-$ROOT/.cache/uws}
FALLBACK=uwebsockets@3.0.6

if [ -f "$DIR/package-name" ] && [ -f "$DIR/node_modules/$(cat "$DIR/package-name")/package.json" ]; then
  echo "ensure-uws: $(cat "$DIR/package-name") present in $DIR"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "ensure-uws: uWebSockets.js is missing and npm is not available to install it" >&2
  exit 1
fi

mkdir -p "$DIR"
if npm view uWebSockets.js version >/dev/null 2>&1; then
  SPEC=uWebSockets.js
  NAME=uWebSockets.js
else
  echo "ensure-uws: the registry has no uWebSockets.js; installing $FALLBACK (the v20 binaries, republished)"
  SPEC=$FALLBACK
  NAME=uwebsockets
fi

echo "ensure-uws: npm install $SPEC into $DIR (about 100 MB)"
if ! npm install --prefix "$DIR" --no-save --no-package-lock --no-audit --no-fund --ignore-scripts "$SPEC"; then
  echo "ensure-uws: npm install $SPEC failed" >&2
  exit 1
fi

if [ ! -f "$DIR/node_modules/$NAME/package.json" ]; then
  echo "ensure-uws: $SPEC installed but $DIR/node_modules/$NAME is missing" >&2
  exit 1
fi
printf '%s\n' "$NAME" > "$DIR/package-name"
echo "ensure-uws: installed $NAME $(node -p "require('$DIR/node_modules/$NAME/package.json').version")"
