#!/usr/bin/env bash
# fuzz.sh runs every Fuzz target of the workspace for a short time each (default 10s).
#
# Go 1.26's fuzzing coordinator can end a duration-bounded run with a bare "context deadline
# exceeded" when the machine is loaded (go.dev/issue/75804, fixed in Go 1.27): the deadline of
# -fuzztime races the workers' shutdown. Such a run found nothing: it wrote no reproducer. A
# target that fails that way is run again, up to three more times (on a loaded machine the race
# was seen twice in a row); a failure that wrote a reproducer under testdata/fuzz/TARGET, or any
# other failure, fails the script.
set -euo pipefail
time=${1:-10s}
cd "$(dirname "$0")/.."

# fuzz_one PKGDIR TARGET: 0 when the run passed, 1 when it failed, 2 for the toolchain's race.
fuzz_one() {
  local pdir=$1 target=$2 corpus before after out rc=0
  corpus="$pdir/testdata/fuzz/$target"
  before=$(ls "$corpus" 2>/dev/null | sort || true)
  out=$(cd "$pdir" && go test -tags chdb -run '^$' -fuzz "^${target}\$" -fuzztime "$time" . 2>&1) || rc=$?
  echo "$out"
  [ $rc -eq 0 ] && return 0
  after=$(ls "$corpus" 2>/dev/null | sort || true)
  if [ "$before" = "$after" ] && grep -q '^    context deadline exceeded$' <<<"$out" && ! grep -q 'Failing input written' <<<"$out"; then
    return 2
  fi
  return 1
}

for dir in $(go list -m -f '{{.Dir}}'); do
  for pkg in $(cd "$dir" && go list -tags chdb -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...); do
    pdir=$(cd "$dir" && go list -tags chdb -f '{{.Dir}}' "$pkg")
    for target in $(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)' "$pdir"/*_test.go 2>/dev/null | awk '{print $2}'); do
      echo "fuzz: $pkg $target ($time)"
      rc=0; fuzz_one "$pdir" "$target" || rc=$?
      for again in 1 2 3; do
        [ $rc -eq 2 ] || break
        echo "fuzz: $target ended on the fuzzing coordinator's deadline race (go.dev/issue/75804) without a reproducer; running it again ($again of 3)"
        rc=0; fuzz_one "$pdir" "$target" || rc=$?
      done
      if [ $rc -ne 0 ]; then
        echo "fuzz: $pkg $target FAILED" >&2
        exit 1
      fi
    done
  done
done
