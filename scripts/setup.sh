#!/usr/bin/env bash
# Sets up .venv for gridtui on a fresh machine; `--test` adds what the test suite needs.
# Idempotent: a second run only checks that everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi

stamp=.venv/.gridtui-installed
extras=""
[ "$want_tests" = 1 ] && extras="[test]"
# Exactly the versions the test suite passed with (scripts/lock.sh refreshes the file).
pins=scripts/constraints.txt
# Reinstall only when pyproject.toml or the pins changed, or these extras were never installed.
if [ -f "$stamp" ] && { [ pyproject.toml -nt "$stamp" ] || [ "$pins" -nt "$stamp" ]; }; then
  rm -f "$stamp"
fi
if [ ! -f "$stamp" ] || ! grep -qxF "extras=$extras" "$stamp"; then
  pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check --constraint "$pins")
  "${pip[@]}" pip
  "${pip[@]}" -e ".$extras"
  echo "extras=$extras" >> "$stamp"
fi

if [ "$want_tests" = 1 ]; then
  # tmux drives the end-to-end console test; iproute2 gives network namespaces for
  # the cut-link test; openssh-server is the SSH server nobody here wrote (and the
  # ProxyJump bastion). Debian packages, installed only when missing.
  missing=()
  command -v tmux >/dev/null || missing+=(tmux)
  command -v ip >/dev/null || missing+=(iproute2)
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
