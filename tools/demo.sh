#!/usr/bin/env bash
# The whole stack for developers, in the foreground: nukisim with the demo fleet
# (tools/demo-fleet.json) on the wall clock, nuki-adapter pointed at it (Nuki webhooks on), and
# `nukihil record` as the platform's webhook receiver, printing every signed platform webhook
# as it arrives. Prints every URL (the dashboard's too, nukisim --ui: docs/dashboard.md), token
# and device id, then waits; Ctrl-C stops all three.
# Installs missing Debian packages and builds (release) first.
#   NUKISIM_PORT (8080), ADAPTER_PORT (8090), RECORDER_PORT (9000) pick the ports;
#   NUKISIM_CLOCK=virtual runs nukisim on virtual time (advance it yourself, see below);
#   extra arguments go to nukisim (e.g. --time-scale 60).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-debian.sh
cmake --preset release >/dev/null
cmake --build --preset release --target nukisim nuki-adapter nukihil

sim_port="${NUKISIM_PORT:-8080}"
adapter_port="${ADAPTER_PORT:-8090}"
recorder_port="${RECORDER_PORT:-9000}"
clock="${NUKISIM_CLOCK:-real}"
admin=demo-admin-token
export NUKI_TOKEN=demo-api-token-0123456789
export NUKIHIL_API_KEY=demo-api-key-0123456789
export NUKIHIL_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
run=build/demo
rm -rf "$run" && mkdir -p "$run"

pids=()
stop() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

build/release/tools/nukihil record --port "$recorder_port" &
pids+=($!)
build/release/tools/nukisim --ui --port "$sim_port" --fleet tools/demo-fleet.json --admin-token "$admin" \
  --seed 1 --clock "$clock" "$@" >"$run/nukisim.json" 2>"$run/nukisim.log" &
pids+=($!)
sleep 0.5
build/release/tools/nuki-adapter --nuki-url "http://127.0.0.1:$sim_port" --listen "$adapter_port" \
  --webhook-url "http://127.0.0.1:$recorder_port/platform" --db "$run/adapter.db" \
  --public-url "http://127.0.0.1:$adapter_port" >"$run/adapter.json" 2>"$run/adapter.log" &
pids+=($!)

api() { curl -sf -H "Authorization: Bearer $NUKIHIL_API_KEY" "http://127.0.0.1:$adapter_port$1"; }
for _ in $(seq 1 100); do
  if api /v1/health >/dev/null 2>&1; then break; fi
  sleep 0.1
done
devices="$(api /v1/devices || true)"
if [ -z "$devices" ]; then
  echo "demo: nuki-adapter did not come up; see $run/adapter.log and $run/nukisim.log" >&2
  exit 1
fi
# The Front door (3.0 Pro) for the examples, else the first device.
first_id="$(printf '%s' "$devices" | grep -o '"id":"[0-9]*","model":"[^"]*","name":"Front door"' | cut -d'"' -f4)"
[ -n "$first_id" ] || first_id="$(printf '%s' "$devices" | grep -o '"id":"[0-9]*"' | head -1 | cut -d'"' -f4)"

cat <<TXT

The whole stack is up (logs in $run/):
  nukisim        http://127.0.0.1:$sim_port          Nuki Web API token: $NUKI_TOKEN
                 http://127.0.0.1:$sim_port/sim/v1   control plane, admin token: $admin  (clock: $clock)
  dashboard      http://127.0.0.1:$sim_port/sim/ui   the fleet in the browser: sign in with the admin token $admin
  nuki-adapter   http://127.0.0.1:$adapter_port/v1   API key: $NUKIHIL_API_KEY
  recorder       http://127.0.0.1:$recorder_port/platform   webhook secret: $NUKIHIL_WEBHOOK_SECRET

Devices (id  name):
$(printf '%s' "$devices" | grep -o '"id":"[0-9]*","model":"[^"]*","name":"[^"]*"' |
    sed 's/"id":"\([0-9]*\)","model":"\([^"]*\)","name":"\([^"]*\)"/  \1  \3 (\2)/')

Try (the platform webhooks print below as they arrive):
  curl -s -H 'Authorization: Bearer $NUKIHIL_API_KEY' -X POST \\
       -d '{"trait":"LOCK","action":"setLocked","parameters":{"lock":true}}' \\
       http://127.0.0.1:$adapter_port/v1/devices/$first_id/actions
  curl -s -H 'Authorization: Bearer $NUKIHIL_API_KEY' -X POST \\
       -d '{"trait":"BETA_PIN_CODE_CREDENTIALS","action":"createPinCodeCredential","parameters":{"pinCode":"234567","name":"Guest"}}' \\
       http://127.0.0.1:$adapter_port/v1/devices/$first_id/actions
  curl -s -H 'Authorization: Bearer $admin' -X POST -d '{"code":234567}' \\
       http://127.0.0.1:$sim_port/sim/v1/smartlocks/$first_id/keypad
  curl -s -H 'Authorization: Bearer $admin' -X POST http://127.0.0.1:$sim_port/sim/v1/smartlocks/$first_id/sync
  curl -s -H 'Authorization: Bearer $admin' -X POST -d '{"online":false}' \\
       http://127.0.0.1:$sim_port/sim/v1/smartlocks/$first_id/connectivity
$( [ "$clock" = virtual ] && echo "  curl -s -H 'Authorization: Bearer $admin' -X POST -d '{\"seconds\":10}' http://127.0.0.1:$sim_port/sim/v1/clock/advance" )

Ctrl-C stops all three.

TXT
wait
