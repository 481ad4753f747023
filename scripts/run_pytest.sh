#!/usr/bin/env bash
# Runs pytest; "no tests collected" (exit 5) is a failure with a clear message, not a silent pass.
set -u
python="${1:-.venv/bin/python}"
shift || true
"$python" -m pytest -q "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "error: pytest collected no tests (exit 5); the test suite must not be empty" >&2
  exit 1
fi
exit "$rc"
