#!/usr/bin/env bash
# Builds everything (dev preset: optimised, warnings are errors) and runs every test except
# the nightly explorations. Installs missing Debian packages first.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-debian.sh
cmake --preset dev
cmake --build --preset dev
ctest --preset dev "$@"
