#!/usr/bin/env bash
# pytest, where "no tests collected" (exit code 5) is a failure, not a pass.
set -uo pipefail
pytest -p no:cacheprovider "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests in: $*" >&2
  exit 1
fi
exit "$rc"
