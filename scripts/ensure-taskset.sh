#!/bin/sh
# Make sure taskset (util-linux) is available: the bench pins the server and the load
# processes to disjoint CPUs with it. Safe to run again: does nothing when it is there.
# Without it the bench still runs, unpinned, and says so in results.json and the report.
set -eu

if command -v taskset >/dev/null 2>&1; then
  echo "ensure-taskset: $(command -v taskset) present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-taskset: taskset is missing and installing it needs root (run: apt-get install -y util-linux)" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-taskset: taskset is missing and apt-get is not available to install util-linux" >&2
  exit 1
fi

echo "ensure-taskset: taskset missing; installing util-linux"
DEBIAN_FRONTEND=noninteractive apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends util-linux
command -v taskset >/dev/null 2>&1 || { echo "ensure-taskset: util-linux installed but taskset is still missing" >&2; exit 1; }
echo "ensure-taskset: $(command -v taskset) installed"
