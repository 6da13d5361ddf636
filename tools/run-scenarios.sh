#!/usr/bin/env bash
# Run `molecule test` for each scenario named, JOBS at a time (DJANGOOPS_JOBS, default 2), in the
# order given: name the long ones first. A job named make:TARGET runs `make TARGET` instead (lint,
# pytest ...), so that `make test` runs its checks beside the scenarios, not before them on one core.
# Each job's output goes to a log under $DJANGOOPS_LOGS (default: a temporary directory), printed
# whole once that job ends, so that the output stays readable; then a table of durations and, for
# each job that failed, the lines of its log that say why (CI may keep only the end of the output).
# Fails if any job failed.
# Scenarios are independent: each has its own containers (named after it), its own network, and
# its own ACME server inside its containers.
# Usage: tools/run-scenarios.sh site failures postgresql make:lint ...
set -uo pipefail
[ $# -gt 0 ] || { echo "usage: $0 SCENARIO..." >&2; exit 2; }
jobs=${DJANGOOPS_JOBS:-2}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "DJANGOOPS_JOBS must be a positive number, got '$jobs'" >&2; exit 2; }
logs=${DJANGOOPS_LOGS:-$(mktemp -d)}
mkdir -p "$logs"

declare -A names=() starts=() commands=()
results=() failures=()
failed=0
total_start=$(date +%s)
# The machine's idle and total CPU time so far (/proc/stat, in ticks): how busy the run kept the cores
# says whether more jobs at a time could help (they cannot when the cores were busy all along).
cpu_ticks() { awk '/^cpu / { total = 0; for (i = 2; i <= NF; i++) total += $i; print $5 + $6, total }' /proc/stat; }
read -r idle_start ticks_start < <(cpu_ticks)

finish() {  # the pid of a job that ended, and its exit status
  local pid=$1 rc=$2 scenario=${names[$1]} status=passed
  [ "$rc" -eq 0 ] || { status=FAILED; failed=1; failures+=("$scenario"); }
  echo "=== ${commands[$scenario]}: $status ($logs/$scenario.log)"
  cat "$logs/$scenario.log"
  echo "=== end of ${commands[$scenario]}: $status"
  results+=("$(printf '%-14s %-7s %5ss' "$scenario" "$status" "$(($(date +%s) - ${starts[$pid]}))")")
  unset "names[$pid]"
}

wait_one() {
  local pid rc
  wait -n -p pid "${!names[@]}"
  rc=$?
  finish "$pid" "$rc"
}

for job in "$@"; do
  while [ "${#names[@]}" -ge "$jobs" ]; do wait_one; done
  if [[ $job == make:* ]]; then
    scenario=${job#make:}
    command=(make --no-print-directory "$scenario")
  else
    scenario=$job
    command=(molecule test -s "$scenario")
  fi
  commands[$scenario]=${command[*]}
  echo "=== started ${commands[$scenario]}"
  "${command[@]}" >"$logs/$scenario.log" 2>&1 &
  names[$!]=$scenario
  starts[$!]=$(date +%s)
done
while [ "${#names[@]}" -gt 0 ]; do wait_one; done

echo
printf '%-14s %-7s %6s\n' job result time
printf '%s\n' "${results[@]}"
read -r idle_end ticks_end < <(cpu_ticks)
busy=$((100 - 100 * (idle_end - idle_start) / (ticks_end - ticks_start > 0 ? ticks_end - ticks_start : 1)))
printf '%-14s %-7s %5ss  (%s at a time, the CPUs %s%% busy)\n' all "$([ "$failed" -eq 0 ] && echo passed || echo FAILED)" \
  "$(($(date +%s) - total_start))" "$jobs" "$busy"
# Why each failed scenario failed: Ansible's first failed tasks, pytest's summary, the log's last
# lines. The whole log is printed above.
for scenario in "${failures[@]}"; do
  echo
  echo "=== why ${commands[$scenario]} failed"
  # Molecule frames each command's output ("  │ " before each line, in colour): read the plain lines.
  sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^ *[│┌└]\( \|$\)//' "$logs/$scenario.log" >"$logs/$scenario.plain"
  # Failed tasks that were not ignored (up to 5, 8 lines each), pytest's first error lines and its summary.
  awk '/^(fatal|failed): \[/ { block = $0; n = 1; next }
       n && /^\.\.\.ignoring/ { n = 0; next }
       n && (n >= 8 || /^$/ || /^(TASK|PLAY|RUNNING HANDLER) /) { print block; n = 0; if (++shown == 5) exit; next }
       n { block = block "\n" $0; n++ }
       END { if (n) print block }' "$logs/$scenario.plain" | cut -c 1-400
  grep -m 20 '^E  ' "$logs/$scenario.plain" | cut -c 1-400
  sed -n '/short test summary info/,/ in [0-9.]*s/p' "$logs/$scenario.plain" | cut -c 1-400 | head -n 40
  echo "--- its last lines"
  tail -n 15 "$logs/$scenario.plain"
done
exit "$failed"
