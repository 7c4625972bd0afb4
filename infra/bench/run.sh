#!/usr/bin/env bash
# `make bench`: prints citydesk's benchmark figures as one table (see infra/bench/README.md).
#   1. .venv with the emulator (infra/local/ensure-venv.sh) and cargo-lambda (infra/bench/requirements.txt);
#   2. `cargo lambda build --release --x86-64 -p PACKAGE` of each of the eight function
#      binaries and the bench-hello baseline (falls back to `cargo build --release`, and says why);
#   3. moto server on 127.0.0.1:$BENCH_MOTO_PORT (default 4568), stopped on exit;
#   4. the stack of template.yaml deployed on it (infra/local/deploy_stack.py);
#   5. `cargo run --release -p citydesk-bench` with any arguments given to this script
#      (e.g. `infra/bench/run.sh --runs 11 --requests 50000`; `-- --help` lists them).
# Not a test: nothing here runs in `make test`. The release builds take many minutes on 2 cores.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
moto_port="${BENCH_MOTO_PORT:-4568}"
stack="${BENCH_STACK:-citydesk-bench}"
out_dir="$root/.local/bench"
venv="$root/.venv"
bench_req="$root/infra/bench/requirements.txt"
bench_stamp="$venv/.citydesk-bench-requirements.sha256"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-eu-central-1}"
mkdir -p "$out_dir"

step() { printf '\n==> %s\n' "$*" >&2; }
die() { printf '\nbench: %s\n' "$*" >&2; exit 1; }

# The nine function binaries of template.yaml and the two baselines: a hello world
# and the floor (the same AWS clients every function builds, nothing else). Each is
# built by its own cargo invocation, as SAM builds each function: one invocation for
# all would unify features across them (the hello world grows by a third that way).
packages=(
  citydesk-bench-hello citydesk-bench-clients citydesk-intake-web citydesk-classify
  citydesk-route citydesk-department-api citydesk-notify citydesk-report
  citydesk-open311 citydesk-sla-watch citydesk-dispatch
)

step "virtualenv (.venv): emulator and cargo-lambda"
infra/local/ensure-venv.sh || die "infra/local/ensure-venv.sh failed (see above)"
want="$(sha256sum "$bench_req" | cut -d' ' -f1)"
cargo_lambda_ok=1
fallback_reason=""
if [[ ! -f "$bench_stamp" || "$(cat "$bench_stamp")" != "$want" ]]; then
  if "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$bench_req" \
       >"$out_dir/pip.log" 2>&1; then
    echo "$want" >"$bench_stamp"
  else
    tail -n 20 "$out_dir/pip.log" >&2
    cargo_lambda_ok=0
    fallback_reason="pip could not install infra/bench/requirements.txt (log: .local/bench/pip.log)"
  fi
fi

rustc_version="$(rustc -V)"
if [[ $cargo_lambda_ok == 1 ]]; then
  cl_version="$(PATH="$venv/bin:$PATH" cargo lambda --version 2>/dev/null | head -n1 || true)"
  zig_version="$("$venv/bin/python" -m ziglang version 2>/dev/null || echo '?')"
  [[ -n "$cl_version" ]] || { cargo_lambda_ok=0; fallback_reason="cargo lambda does not run from .venv/bin"; }
fi

# Only the x86_64 Rust target is installed here (the aarch64 std cannot be fetched
# offline), so the build is for x86_64 although template.yaml deploys arm64.
if [[ $cargo_lambda_ok == 1 ]]; then
  step "cargo lambda build --release --x86-64 -p PACKAGE, each (${cl_version}, zig ${zig_version}); log: .local/bench/cargo-lambda.log"
  started=$SECONDS
  : >"$out_dir/cargo-lambda.log"
  status=0
  for package in "${packages[@]}"; do
    echo "-- $package" >&2
    set +e
    PATH="$venv/bin:$PATH" cargo lambda build --release --x86-64 -p "$package" 2>&1 \
      | tee -a "$out_dir/cargo-lambda.log"
    status=${PIPESTATUS[0]}
    set -e
    [[ $status == 0 ]] || break
  done
  if [[ $status == 0 ]]; then
    echo "built in $((SECONDS - started)) s" >&2
    bin_dir="target/lambda"
    layout="lambda"
    build_note="cargo lambda build --release --x86-64 -p PACKAGE, each on its own (${cl_version}, zig ${zig_version}, ${rustc_version}); x86_64, not the template's arm64"
  else
    cargo_lambda_ok=0
    first_error="$(grep -m1 -iE '^(error|Error)' "$out_dir/cargo-lambda.log" || tail -n1 "$out_dir/cargo-lambda.log")"
    fallback_reason="cargo lambda build -p $package failed (exit $status): ${first_error}"
  fi
fi

if [[ $cargo_lambda_ok == 0 ]]; then
  echo "bench: falling back to cargo build --release: $fallback_reason" >&2
  step "cargo build --release (fallback); log: .local/bench/cargo-build.log"
  started=$SECONDS
  set +e
  : >"$out_dir/cargo-build.log"
  status=0
  for package in "${packages[@]}"; do
    echo "-- $package" >&2
    set +e
    cargo build --release -p "$package" 2>&1 | tee -a "$out_dir/cargo-build.log"
    status=${PIPESTATUS[0]}
    set -e
    [[ $status == 0 ]] || break
  done
  [[ $status == 0 ]] || die "cargo build --release failed (exit $status); log: .local/bench/cargo-build.log"
  echo "built in $((SECONDS - started)) s" >&2
  bin_dir="target/release"
  layout="plain"
  build_note="cargo build --release -p PACKAGE, each on its own (${rustc_version}), FALLBACK because ${fallback_reason}"
fi

step "citydesk-bench (cargo build --release -p citydesk-bench)"
cargo build --release -p citydesk-bench || die "building citydesk-bench failed (see above)"

step "moto server on 127.0.0.1:${moto_port}"
started_moto=0
if ! infra/local/moto.sh status "$moto_port" >/dev/null 2>&1; then
  infra/local/moto.sh start "$moto_port" || die "moto server did not start on ${moto_port} (log: .local/moto-${moto_port}.log)"
  started_moto=1
else
  echo "something already answers on ${moto_port}; using it" >&2
fi
cleanup() { if [[ $started_moto == 1 ]]; then infra/local/moto.sh stop "$moto_port" || true; fi; }
trap cleanup EXIT

step "stack ${stack} from template.yaml on the emulator"
stack_file="$root/.local/stack-${stack}.json"
"$venv/bin/python" infra/local/deploy_stack.py --template template.yaml \
  --endpoint-url "http://127.0.0.1:${moto_port}" --stack-name "$stack" --out "$stack_file" \
  >"$out_dir/deploy.log" 2>&1 || { tail -n 30 "$out_dir/deploy.log" >&2; die "deploying ${stack} to the emulator failed (log: .local/bench/deploy.log)"; }

step "figures (cargo run --release -p citydesk-bench)"
set +e
cargo run --quiet --release -p citydesk-bench -- \
  --bin-dir "$bin_dir" --layout "$layout" --build-note "$build_note" \
  --stack-file "$stack_file" --catalogue-dir infra/demo-city --log-dir "$out_dir" "$@" \
  | tee "$out_dir/table.txt"
status=${PIPESTATUS[0]}
set -e
[[ $status == 0 ]] || die "citydesk-bench failed (exit $status; output of each function's latest start in .local/bench/*.log)"
echo >&2
echo "table also written to .local/bench/table.txt" >&2
