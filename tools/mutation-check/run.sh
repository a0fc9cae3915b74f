#!/usr/bin/env bash
# Mutation check: builds the checker (dev preset), then plants each adapter bug of
# tools/mutation-check/mutations.json in a copy of the sources (build/mutation), rebuilds
# nukihil there and explores it. Prints the Markdown report and writes build/mutation/report.md.
# Takes about a minute or two per bug on two cores. Arguments go to mutation-check
# (--cases N, --seed S, --only ID).
set -euo pipefail
cd "$(dirname "$0")/../.."
tools/setup-debian.sh
cmake --preset dev >/dev/null
cmake --build --preset dev --target mutation-check
exec build/dev/tools/mutation-check --source . --report build/mutation/report.md "$@"
