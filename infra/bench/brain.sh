#!/usr/bin/env bash
# `make bench-brain`: the brain's figures (infra/bench/src/brain/: main.rs, quality.rs) in one run:
# history import rows/s and peak memory (1M synthetic NYC rows), citydesk's
# classifier beside the scikit-learn baseline on the real samples, and
# classification + routing speed. Installs scikit-learn into .venv first.
# Not a test: nothing here runs in `make test`. Arguments go to the bench
# (e.g. `infra/bench/brain.sh --import-rows 100000`).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
venv="$root/.venv"
req="$root/infra/bench/quality/requirements.txt"
stamp="$venv/.citydesk-quality-requirements.sha256"

infra/local/ensure-venv.sh
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$req"
  echo "$want" >"$stamp"
fi
cargo run --quiet --release -p citydesk-bench --bin citydesk-brain-bench -- \
  --python "$venv/bin/python" "$@"
