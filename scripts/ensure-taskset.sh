#!/bin/sh
# Make sure taskset (util-linux) is available: the bench pins the server and the load
# processes to disjoint CPUs with it. Safe to run again: does nothing when it is there.
# Without it the bench still runs, unpinned, and says so in results.json and the report.
set -eu

if command -v taskset >/dev/null 2>&1; then
  echo "ensure-taskset: $(command -v taskset) present"
  exit 0
fi

sh "$(dirname "$0")/apt-install.sh" ensure-taskset util-linux

command -v taskset >/dev/null 2>&1 || { echo "ensure-taskset: util-linux installed but taskset is still missing" >&2; exit 1; }
echo "ensure-taskset: $(command -v taskset) installed"
