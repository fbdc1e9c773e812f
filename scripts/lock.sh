#!/usr/bin/env bash
# Refreshes scripts/constraints.txt: resolves pyproject.toml's dependencies afresh (test
# extras included) in a throwaway venv and writes every version it got. Run the README's
# test command on the result before committing it: the file must name what the suite passed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check ".[test,gpu]"
{
  echo "# Every version the test suite passed with; scripts/setup.sh installs exactly these."
  echo "# Refresh with scripts/lock.sh, then run the README's test command before committing."
  "$work/venv/bin/python" -m pip freeze --all --exclude-editable | grep -v -e '^gridtui[= ]' -e '^setuptools=='
} > scripts/constraints.txt
echo "scripts/constraints.txt: $(grep -vc '^#' scripts/constraints.txt) pins"
