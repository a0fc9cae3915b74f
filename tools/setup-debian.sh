#!/usr/bin/env bash
# Installs what nukihil needs on Debian (12, "bookworm") if it is missing. Safe to run again.
set -euo pipefail

packages=(
  g++ cmake make pkg-config git
  libboost-dev libboost-system-dev
  nlohmann-json3-dev
  libgtest-dev libgmock-dev googletest
  librapidcheck-dev
  libssl-dev
  libsqlite3-dev
  libcli11-dev
  libhowardhinnant-date-dev
  tzdata ca-certificates openssl curl
  chromium  # headless, for the HTML report's browser test
  clang libclang-rt-14-dev  # libFuzzer (the fuzz preset)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "nukihil: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "nukihil: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || true
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
