#!/usr/bin/env bash
# One fuzz target's run: run.sh TARGET WORKDIR CORPUS SECONDS [libFuzzer flags…]
# New inputs go to WORKDIR (created), the seed corpus is only read. A crash leaves its input in
# WORKDIR as crash-* (reproduce: TARGET WORKDIR/crash-…) and fails the run.
set -euo pipefail
target=$1 work=$2 corpus=$3 seconds=$4
shift 4
mkdir -p "$work"
cd "$work"
exec "$target" -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=20 -print_final_stats=1 \
  -artifact_prefix="$work/" "$@" "$work" "$corpus"
