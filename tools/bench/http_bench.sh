#!/usr/bin/env bash
# HTTP benchmark: GET /smartlock/{id} of nukisim against a bare Boost.Beast server answering a
# fixed body of the same size (bench-bare-server), with keep-alive on loopback, both measured
# with the same wrk settings in the same run. Fails (exit 1) if nukisim serves less than 60 %
# of the bare server's requests per second.
#
#   tools/bench/http_bench.sh [BUILD_DIR]        (default build/release)
#
# Builds nothing: BUILD_DIR must hold tools/nukisim and tools/bench-bare-server, e.g.
#   cmake --preset release && cmake --build --preset release --target nukisim bench-bare-server
#
# Settings (environment): DURATION (10s), CONNECTIONS (32), THREADS (1), ROUNDS (3: the servers
# are measured alternately, the best round of each counts), WARMUP (2s), MIN_RATIO (0.60).
# With two or more CPUs the server runs on CPU 0 and wrk on CPU 1 (taskset).
set -euo pipefail

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
}
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
esac

BUILD_DIR="${1:-build/release}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-1}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-2s}"
MIN_RATIO="${MIN_RATIO:-0.60}"
TOKEN="bench-token-0123456789abcdef0123456789abcdef"

NUKISIM="$BUILD_DIR/tools/nukisim"
BARE="$BUILD_DIR/tools/bench-bare-server"
for bin in "$NUKISIM" "$BARE"; do
  if [[ ! -x "$bin" ]]; then
    echo "http_bench: $bin not found; build it first, e.g." >&2
    echo "  cmake --preset release && cmake --build --preset release --target nukisim bench-bare-server" >&2
    exit 2
  fi
done

# Tools: wrk (and curl, to find a lock id) through apt-get if missing.
need() {
  local tool="$1" package="$2"
  command -v "$tool" >/dev/null && return 0
  echo "http_bench: $tool missing, installing package $package" >&2
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get install -y "$package" >/dev/null || { $sudo apt-get update >/dev/null && $sudo apt-get install -y "$package" >/dev/null; }
}
need wrk wrk
need curl curl

# Pinning: server and load generator on different CPUs when there are two.
SERVER_PIN=()
CLIENT_PIN=()
if command -v taskset >/dev/null && [[ $(nproc) -ge 2 ]]; then
  SERVER_PIN=(taskset -c 0)
  CLIENT_PIN=(taskset -c 1)
  PINNING="server on CPU 0, wrk on CPU 1"
else
  PINNING="unpinned"
fi

TMP="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

# Starts a server that prints a JSON line with "url" first thing; sets URL.
start_server() {
  local name="$1"
  shift
  "${SERVER_PIN[@]}" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PIDS+=($!)
  for _ in $(seq 100); do
    URL="$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$TMP/$name.out" | head -1)"
    [[ -n "$URL" ]] && return 0
    sleep 0.05
  done
  echo "http_bench: $name did not start:" >&2
  cat "$TMP/$name.err" >&2
  exit 2
}

# The fleet: one account with a known token and 10 locks.
{
  printf '{"accounts":[{"name":"Bench","apiToken":"%s","smartlocks":[' "$TOKEN"
  for i in $(seq 1 10); do
    [[ $i -gt 1 ]] && printf ','
    printf '{"name":"Lock %d"}' "$i"
  done
  printf ']}]}\n'
} >"$TMP/fleet.json"

start_server bare "$BARE" --port 0
BARE_URL="$URL"
start_server nukisim "$NUKISIM" --port 0 --seed 1 --fleet "$TMP/fleet.json"
NUKISIM_URL="$URL"

AUTH="Authorization: Bearer $TOKEN"
ID="$(curl -sf -H "$AUTH" "$NUKISIM_URL/smartlock" | grep -o '"smartlockId":[0-9]*' | head -1 | cut -d: -f2)"
if [[ -z "$ID" ]]; then
  echo "http_bench: GET /smartlock on nukisim returned no lock" >&2
  exit 2
fi
PATH_UNDER_TEST="/smartlock/$ID"
NUKISIM_BYTES="$(curl -sf -H "$AUTH" "$NUKISIM_URL$PATH_UNDER_TEST" | wc -c)"
BARE_BYTES="$(curl -sf -H "$AUTH" "$BARE_URL$PATH_UNDER_TEST" | wc -c)"

# Runs wrk against $1 for $2; prints requests/second. Any non-2xx answer is an error.
run_wrk() {
  local url="$1" duration="$2" out
  out="$("${CLIENT_PIN[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" -H "$AUTH" "$url")"
  if grep -q "Non-2xx" <<<"$out"; then
    echo "http_bench: non-2xx answers from $url:" >&2
    echo "$out" >&2
    exit 2
  fi
  awk '/^Requests\/sec:/ {print $2}' <<<"$out"
}

# Loopback numbers mean little on a busy machine: say so.
read -r load1 _ </proc/loadavg
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
  echo "http_bench: warning: load average $load1 before the run; other work on this machine skews the numbers (the ratio less so)" >&2
fi

echo "http_bench: GET $PATH_UNDER_TEST, keep-alive, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $PINNING, $ROUNDS round(s)"
echo "  bare Beast server: $BARE_URL (body $BARE_BYTES bytes)"
echo "  nukisim:           $NUKISIM_URL (body $NUKISIM_BYTES bytes)"

run_wrk "$BARE_URL$PATH_UNDER_TEST" "$WARMUP" >/dev/null
run_wrk "$NUKISIM_URL$PATH_UNDER_TEST" "$WARMUP" >/dev/null

best_bare=0
best_nukisim=0
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'; }
for round in $(seq 1 "$ROUNDS"); do
  bare="$(run_wrk "$BARE_URL$PATH_UNDER_TEST" "$DURATION")"
  nukisim="$(run_wrk "$NUKISIM_URL$PATH_UNDER_TEST" "$DURATION")"
  printf '  round %d: bare %8.0f req/s   nukisim %8.0f req/s   ratio %.3f\n' "$round" "$bare" "$nukisim" \
    "$(awk -v n="$nukisim" -v b="$bare" 'BEGIN { print n / b }')"
  best_bare="$(max "$best_bare" "$bare")"
  best_nukisim="$(max "$best_nukisim" "$nukisim")"
done

ratio="$(awk -v n="$best_nukisim" -v b="$best_bare" 'BEGIN { printf "%.3f", n / b }')"
printf 'bare Beast server: %.0f req/s\n' "$best_bare"
printf 'nukisim:           %.0f req/s\n' "$best_nukisim"
if awk -v r="$ratio" -v m="$MIN_RATIO" 'BEGIN { exit !(r >= m) }'; then
  echo "PASS: nukisim/bare = $ratio >= $MIN_RATIO"
else
  echo "FAIL: nukisim/bare = $ratio < $MIN_RATIO"
  exit 1
fi
