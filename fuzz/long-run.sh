#!/bin/sh
# The long run (issue 7): CHUNKS chunks of CASES cases each, seeds FIRST..,
# two at a time, niced; one JSON line per chunk in fuzz/logs/long-run.jsonl,
# findings and slow cases in fuzz/logs/long-run-<seed>.txt.
#   sh fuzz/long-run.sh FIRST_SEED CHUNKS CASES [HEAVY_EVERY]
cd "$(dirname "$0")/.." || exit 2
first=$1; chunks=$2; cases=$3; heavy=${4:-16}
seq "$first" $((first + chunks - 1)) | xargs -P 2 -I{} sh -c \
  "nice -n 10 node fuzz/run.mjs --cases $cases --seed {} --heavy-every $heavy --quiet > fuzz/logs/long-run-{}.txt 2>&1; head -1 fuzz/logs/long-run-{}.txt >> fuzz/logs/long-run.jsonl"
