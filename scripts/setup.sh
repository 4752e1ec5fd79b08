#!/usr/bin/env bash
# setup.sh fetches what Giveback needs at run and test time and is not a Go module:
# libchdb.so (the ClickHouse engine, from npm @chdb/lib-linux-x64-gnu) and the recorded
# GitHub fixtures used by the tests (@octokit/webhooks-examples, @octokit/fixtures).
# Each package is pinned to a version and its npm sha512 integrity is checked before it is
# unpacked into the cache directory. Nothing is fetched twice.
#
# Usage: scripts/setup.sh [chdb|fixtures|all]   (default: all)
# Prints nothing but progress; the cache directory is $GIVEBACK_CACHE (default ~/.cache/giveback).
set -euo pipefail

cache="${GIVEBACK_CACHE:-$HOME/.cache/giveback}"
what="${1:-all}"

# name version integrity
packages_chdb=(
  "@chdb/lib-linux-x64-gnu 26.5.3 sha512-fPrLmRt5Moor9yGz4mazbrNje4t7X9KB2mTGkXFWRxRBs2iKy8yh6jx11xsa0Qr3iDFMU/yHqd+bVdYJXu3QaQ=="
)
packages_fixtures=(
  "@octokit/webhooks-examples 7.6.1 sha512-De6U3XB6O3DtCa7bKgCMzTHdeopqqZ6SNivMYJnK65ierKL1AnNIA0tkRYCRS7lwGT792d+Ps1WbfHlso6MynQ=="
  "@octokit/fixtures 23.1.2 sha512-niG+SVffZ/xzojT3CE6M7DlqX7H9aQ75A6Xxjt4N47CkqssKXpSy2k6+Tj5ntcI5uWW2D9POzKxwJDmBfR+sJw=="
)

need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: $1 is required ($2)" >&2; exit 1; }; }

fetch() {
  local name=$1 version=$2 integrity=$3
  local dir="$cache/npm/${name#@}@$version"
  if [ -f "$dir/.verified" ]; then return 0; fi
  need npm "install Node.js and npm, e.g. apt-get install -y nodejs npm"
  local tmp; tmp=$(mktemp -d)
  echo "setup: fetching $name@$version" >&2
  (cd "$tmp" && npm pack --silent "$name@$version" >/dev/null 2>&1) || { echo "setup: npm pack $name@$version failed" >&2; rm -rf "$tmp"; exit 1; }
  local tgz; tgz=$(ls "$tmp"/*.tgz)
  local got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$got" != "$integrity" ]; then
    echo "setup: $name@$version: checksum mismatch: want $integrity, got $got" >&2
    rm -rf "$tmp"; exit 1
  fi
  rm -rf "$dir"; mkdir -p "$dir"
  tar -xzf "$tgz" -C "$dir" --strip-components=1
  rm -rf "$tmp"
  touch "$dir/.verified"
}

case "$what" in
  chdb|all) for p in "${packages_chdb[@]}"; do fetch $p; done ;;&
  fixtures|all) for p in "${packages_fixtures[@]}"; do fetch $p; done ;;
  chdb) ;;
  *) echo "usage: scripts/setup.sh [chdb|fixtures|all]" >&2; exit 2 ;;
esac
