#!/usr/bin/env bash
# make fuzz: run every Go fuzz target of the module (each `func FuzzX(f
# *testing.F)` in a _test.go file; the list is found, never kept by hand),
# one at a time, for FUZZTIME each. A failing input is saved by Go under
# the package's testdata/fuzz/FuzzX/, where plain `go test` (make test)
# then runs it as a regression case.
#
# Usage: scripts/fuzz.sh [fuzztime]   (default 1m; e.g. 30s, 10m, 5000x)
#        scripts/fuzz.sh --list        (print "package target" lines)
set -euo pipefail
cd "$(dirname "$0")/.."
go=${GO:-go}

# targets prints "./pkg FuzzX" for every fuzz target, sorted. tools/ is
# its own module and holds none.
targets() {
	grep -rEo --include='*_test.go' --exclude-dir=tools --exclude-dir=.git \
		'^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . |
		sed -E 's|^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]*).*|\1 \2|' | sort
}

if [ "${1:-}" = "--list" ]; then
	targets
	exit 0
fi
fuzztime=${1:-1m}
failed=()
while read -r pkg target; do
	echo "== $target ($pkg) for $fuzztime"
	if ! "$go" test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg/" </dev/null; then
		failed+=("$target ($pkg)")
	fi
done < <(targets)
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: failing targets: ${failed[*]}" >&2
	exit 1
fi
