#!/usr/bin/env bash
# Run `molecule test` for each scenario named, print a table of durations, fail if any failed.
# Usage: tools/run-scenarios.sh harness postgresql ...
set -uo pipefail
[ $# -gt 0 ] || { echo "usage: $0 SCENARIO..." >&2; exit 2; }
results=()
failed=0
for scenario in "$@"; do
  echo "=== molecule test -s $scenario"
  start=$(date +%s)
  if molecule test -s "$scenario"; then status=passed; else status=FAILED; failed=1; fi
  results+=("$(printf '%-14s %-7s %5ss' "$scenario" "$status" "$(($(date +%s) - start))")")
done
echo
printf '%-14s %-7s %6s\n' scenario result time
printf '%s\n' "${results[@]}"
exit "$failed"
