#!/usr/bin/env bash
# Makes sure <repo>/.venv exists and holds infra/local/requirements.txt
# (and requirements-lint.txt with --lint). Idempotent and quiet on success:
# a hash of the requirement files is stamped inside .venv, and nothing is
# installed while the stamp matches. A change to requirements.txt rebuilds
# the virtualenv from scratch so no stale package survives.
#
# Usage: infra/local/ensure-venv.sh [--lint]
# Env:   PYTHON (default python3) - interpreter used to create the venv.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.venv"
python="${PYTHON:-python3}"
base_req="$here/requirements.txt"
lint_req="$here/requirements-lint.txt"
base_stamp="$venv/.citydesk-requirements.sha256"
lint_stamp="$venv/.citydesk-requirements-lint.sha256"

with_lint=0
for arg in "$@"; do
  case "$arg" in
    --lint) with_lint=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "ensure-venv.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

stamp_matches() { # stamp_file expected_hash
  [[ -f "$1" ]] && [[ "$(cat "$1")" == "$2" ]]
}

log="$(mktemp "${TMPDIR:-/tmp}/citydesk-venv.XXXXXX")"
trap 'rm -f "$log"' EXIT

run_quietly() { # description command...
  local what="$1"; shift
  if ! "$@" >>"$log" 2>&1; then
    echo "ensure-venv.sh: $what failed; last lines of the log:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

pip_install() { # requirements file
  run_quietly "pip install -r ${1#"$root"/}" \
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$1"
}

# Serialise concurrent callers (parallel test jobs) on one lock per checkout.
if command -v flock >/dev/null 2>&1; then
  lock="${TMPDIR:-/tmp}/citydesk-venv-$(printf '%s' "$root" | sha256sum | cut -c1-16).lock"
  exec 9>"$lock"
  flock 9
fi

base_hash="$(hash_of "$base_req")"
lint_hash="$(hash_of "$base_req" "$lint_req")"

venv_ok=0
if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c 'import sys' >/dev/null 2>&1 \
   && stamp_matches "$base_stamp" "$base_hash"; then
  venv_ok=1
fi

if [[ $venv_ok -eq 0 ]]; then
  if [[ -e "$venv" ]]; then
    if [[ ! -f "$venv/pyvenv.cfg" ]]; then
      echo "ensure-venv.sh: $venv exists but is not a virtualenv; not touching it" >&2
      exit 1
    fi
    rm -rf "$venv"
  fi
  run_quietly "creating $venv" "$python" -m venv "$venv"
  pip_install "$base_req"
  echo "$base_hash" >"$base_stamp"
fi

if [[ $with_lint -eq 1 ]] && ! stamp_matches "$lint_stamp" "$lint_hash"; then
  pip_install "$lint_req"
  echo "$lint_hash" >"$lint_stamp"
fi
