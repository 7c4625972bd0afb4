#!/usr/bin/env bash
# cargo fuzz over the channels' untrusted input (tests/fuzz): the SMS webhook's
# form and signature, and e-mail's MIME. `infra/local/fuzz.sh short` is the
# bounded pass `make test` runs; `make fuzz` runs each target for longer
# (FUZZ_SECONDS, default 300). Installs cargo-fuzz when missing; the machine's
# stable toolchain builds the targets (RUSTC_BOOTSTRAP lets it take the
# sanitizer flag). New inputs go to target/fuzz-corpus, never to the seeds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
mode="${1:-long}"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "installing cargo-fuzz (once)…"
  cargo install cargo-fuzz --locked --quiet
fi
# The short pass is an unoptimised build without AddressSanitizer (the code
# forbids unsafe, so a panic is what it looks for; it builds in half the
# time, which is most of a short pass); the long one optimised and with
# AddressSanitizer, for depth.
case "$mode" in
  short) seconds="${FUZZ_SECONDS:-15}" profile="--dev --sanitizer none" ;;
  long) seconds="${FUZZ_SECONDS:-300}" profile="--release --sanitizer address" ;;
  *) echo "usage: $0 [short|long]" >&2; exit 2 ;;
esac
export RUSTC_BOOTSTRAP=1
for target in sms_webhook mime; do
  corpus="target/fuzz-corpus/$target"
  mkdir -p "$corpus"
  echo "fuzzing $target for ${seconds}s"
  log="target/fuzz-$target.log"
  set +e
  cargo fuzz run $profile --fuzz-dir tests/fuzz --target-dir target/fuzz "$target" "$corpus" "tests/fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 >"$log" 2>&1
  status=$?
  set -e
  grep -E "^(#[0-9]+.*DONE|Done [0-9]+ runs)" "$log" || true
  if [[ $status != 0 ]]; then
    tail -40 "$log" >&2
    echo "fuzz target $target failed (the input is under tests/fuzz/artifacts/$target)" >&2
    exit "$status"
  fi
done
