#!/bin/sh
# Prints 1 to 10, one number a second: the websocketd classic, for `tsx run.ts exec`.
# COUNT_DELAY sets the pause in seconds (the tests use a short one); default 1.
delay="${COUNT_DELAY:-1}"
i=1
while [ "$i" -le 10 ]; do
  echo "$i"
  if [ "$i" -lt 10 ]; then sleep "$delay"; fi
  i=$((i + 1))
done
