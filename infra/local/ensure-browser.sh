#!/usr/bin/env bash
# Makes sure the browser tests can run: Debian's Chromium (apt-get, as root or
# through sudo) and the npm packages of tests/browser (npm ci from its lock
# file; the packages bring no browser of their own). Idempotent and quiet once
# done: a hash of the lock file is stamped in node_modules.
#
# Usage: infra/local/ensure-browser.sh
# Env:   CHROMIUM_PATH (default /usr/bin/chromium) - a Chromium already installed elsewhere.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"

if [[ ! -x "$chromium" ]]; then
  echo "ensure-browser: installing Debian's chromium" >&2
  sudo=""
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || { echo "ensure-browser: chromium is missing and this user cannot install it (no sudo); apt-get install chromium, or set CHROMIUM_PATH" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

cd "$root/tests/browser"
stamp="node_modules/.citydesk-lock.sha256"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
