#!/usr/bin/env bash
# Run the example project's tests in their own virtualenv.
#   EXAMPLE_VENV    virtualenv to create or reuse (default: <repo>/.venv-example)
#   EXAMPLE_PYTHON  interpreter that creates it (default: /usr/bin/python3)
# Extra arguments go to pytest. Exits with pytest's status; "no tests collected" counts as failure.
set -euo pipefail

example_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(dirname "$example_dir")"
venv="${EXAMPLE_VENV:-$repo_dir/.venv-example}"
python="${EXAMPLE_PYTHON:-/usr/bin/python3}"
stamp="$venv/.requirements-test.sha256"

if [[ ! -x "$venv/bin/python" ]]; then
    echo "run-tests.sh: creating virtualenv $venv" >&2
    "$python" -m venv "$venv"
fi

# requirements-test.txt includes requirements.txt, so both files (and the interpreter's version)
# decide whether to reinstall.
wanted="$(
    { "$venv/bin/python" --version; cat "$example_dir/requirements-test.txt" "$example_dir/requirements.txt"; } \
        | sha256sum | cut -d' ' -f1
)"
if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]]; then
    echo "run-tests.sh: installing requirements-test.txt into $venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --requirement "$example_dir/requirements-test.txt"
    echo "$wanted" >"$stamp"
fi

cd "$example_dir"
# conftest.py sets the settings module itself, after it has prepared the environment.
unset DJANGO_SETTINGS_MODULE
status=0
"$venv/bin/python" -m pytest "$@" || status=$?
if [[ $status -eq 5 ]]; then
    echo "run-tests.sh: pytest collected no tests" >&2
    exit 1
fi
exit "$status"
