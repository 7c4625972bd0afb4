#!/usr/bin/env bash
# `make test`: every test. Installs the emulator into .venv when missing, starts
# its own moto server on a test port, runs the whole cargo test suite against
# it (unit, adapter and end-to-end tests), and stops the server again.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
moto_port="${TEST_MOTO_PORT:-4567}"

infra/local/ensure-venv.sh
# Debian's Chromium and playwright-core for the pages' journeys (tests/browser).
infra/local/ensure-browser.sh
# Real client libraries the end-to-end tests drive (Open311's georeport).
.venv/bin/python -m pip install --disable-pip-version-check --no-input -q -r tests/clients/requirements.txt
started=0
if ! infra/local/moto.sh status "$moto_port" >/dev/null 2>&1; then
  infra/local/moto.sh start "$moto_port"
  started=1
fi
cleanup() { if [[ $started == 1 ]]; then infra/local/moto.sh stop "$moto_port" || true; fi; }
trap cleanup EXIT

export CITYDESK_TEST_ENDPOINT="http://127.0.0.1:${moto_port}"
export CITYDESK_PYTHON="$root/.venv/bin/python"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-eu-central-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
log="$root/.local/test-output.log"
mkdir -p "$root/.local"
# The end-to-end tests run the admin command itself (citydesk import, train,
# evaluate). Built with the whole workspace's targets, so its dependencies are
# built once with the features the tests unify (a build of the CLI alone
# would compile a third of them twice).
cargo build --workspace --all-targets
export CITYDESK_CLI="$root/target/debug/citydesk"
# A short bounded pass of cargo fuzz over the channels' untrusted input (make fuzz runs long).
infra/local/fuzz.sh short
# The end-to-end tests start whole systems; keep them from fighting over the two cores.
set +e
cargo test --workspace --all-targets --no-fail-fast -- --test-threads="${TEST_THREADS:-4}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole suite (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     END { if (p + f == 0) { print "no tests ran"; exit 1 } printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
