#!/usr/bin/env bash
# fuzz.sh runs every Fuzz target of the workspace for a short time each (default 10s).
set -euo pipefail
time=${1:-10s}
cd "$(dirname "$0")/.."
for dir in $(go list -m -f '{{.Dir}}'); do
  for pkg in $(cd "$dir" && go list -tags chdb -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...); do
    pdir=$(cd "$dir" && go list -tags chdb -f '{{.Dir}}' "$pkg")
    for target in $(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)' "$pdir"/*_test.go 2>/dev/null | awk '{print $2}'); do
      echo "fuzz: $pkg $target ($time)"
      (cd "$pdir" && go test -tags chdb -run '^$' -fuzz "^${target}\$" -fuzztime "$time" .)
    done
  done
done
