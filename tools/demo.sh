#!/usr/bin/env bash
# The main job, for now: builds nukisim (release) and runs it in the foreground with the demo
# fleet, on virtual time, printing how to reach it. Installs missing Debian packages first.
# Extra arguments go to nukisim (e.g. --clock real --time-scale 60); NUKISIM_PORT picks the
# port (default 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-debian.sh
cmake --preset release >/dev/null
cmake --build --preset release --target nukisim
port="${NUKISIM_PORT:-8080}"
cat <<TXT

nukisim with the demo fleet (tools/demo-fleet.json): one account, a 3.0 Pro, two 3.0 on one
bridge. Nuki API token: demo-api-token-0123456789  Admin token: demo-admin-token

  curl -s -H 'Authorization: Bearer demo-api-token-0123456789' http://127.0.0.1:$port/smartlock
  curl -s -H 'Authorization: Bearer demo-admin-token' http://127.0.0.1:$port/sim/v1/smartlocks
  curl -s -X POST -H 'Authorization: Bearer demo-admin-token' -d '{"seconds":3600}' \\
       http://127.0.0.1:$port/sim/v1/clock/advance

Ctrl-C stops it. The JSON line below is what scripts read.

TXT
exec build/release/tools/nukisim --port "$port" --fleet tools/demo-fleet.json \
  --admin-token demo-admin-token --seed 1 --verbose "$@"
