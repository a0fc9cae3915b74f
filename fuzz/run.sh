#!/usr/bin/env bash
# One fuzz target's run: run.sh TARGET WORKDIR CORPUS SECONDS [libFuzzer flags…]
# New inputs go to WORKDIR (created), the seed corpus is only read. A crash leaves its input in
# WORKDIR as crash-* (reproduce: TARGET WORKDIR/crash-…) and fails the run.
set -euo pipefail
# Paths may be relative to where it is started (the README's long-run command is).
target=$(realpath "$1") work=$(realpath -m "$2") corpus=$(realpath "$3") seconds=$4
shift 4
mkdir -p "$work"
cd "$work"
exec "$target" -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=20 -print_final_stats=1 \
  -artifact_prefix="$work/" "$@" "$work" "$corpus"
