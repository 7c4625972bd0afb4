#!/usr/bin/env bash
# `make bench-pipeline`: the outbox's figures in one run (infra/bench/src/pipeline.rs).
#   1. POST -> assigned, p50/p90/p99 over N requests (default 1000, one at a
#      time), on the local system of this tree and on the one before the
#      outbox (BEFORE_REV, default 44071be: writers sent to SQS after their
#      commit), each on its own fresh stack of its own template on moto;
#   2. items the table returns to route one new report with 100 and 20,000
#      other requests already in the day: the place index beside the
#      creation-day window the route step read before.
# Not a test: nothing here runs in `make test`. Takes several minutes (it builds
# the earlier revision's runner once, into target/bench-before).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
requests="${REQUESTS:-1000}"
before_rev="${BEFORE_REV:-44071be}"
port="${BENCH_MOTO_PORT:-4569}"
out="$root/.local/bench"
mkdir -p "$out"
export AWS_DEFAULT_REGION=eu-central-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
endpoint="http://127.0.0.1:$port"

infra/local/ensure-venv.sh
started=0
if ! infra/local/moto.sh status "$port" >/dev/null 2>&1; then
  infra/local/moto.sh start "$port"
  started=1
fi
runner=""
cleanup() {
  if [[ -n "$runner" ]]; then kill "$runner" 2>/dev/null || true; fi
  if [[ $started == 1 ]]; then infra/local/moto.sh stop "$port" || true; fi
}
trap cleanup EXIT

cargo build --quiet -p citydesk-local -p citydesk-bench --bin citydesk-local --bin citydesk-pipeline-bench
bench="$root/target/debug/citydesk-pipeline-bench"

# The system before the outbox, from its own tree (a worktree of this repository).
before="$out/before-tree"
if [[ ! -d "$before" ]]; then
  git worktree add --detach "$before" "$before_rev" >/dev/null
fi
(cd "$before" && CARGO_TARGET_DIR="$root/target/bench-before" cargo build --quiet -p citydesk-local)

# run_latency LABEL TREE RUNNER STACK PORT
run_latency() {
  local label="$1" tree="$2" bin="$3" stack="$4" http_port="$5"
  .venv/bin/python "$tree/infra/local/deploy_stack.py" --template "$tree/template.yaml" \
    --endpoint-url "$endpoint" --stack-name "$stack" --out "$out/stack-$stack.json" --recreate \
    >"$out/deploy-$stack.log" 2>&1
  (cd "$tree" && exec "$bin" --stack-file "$out/stack-$stack.json" --listen "127.0.0.1:$http_port" \
     --catalogue-dir "$tree/infra/demo-city" --credentials-file "$out/credentials-$stack.json") \
     >"$out/runner-$stack.log" 2>&1 &
  runner=$!
  for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$http_port/health" >/dev/null 2>&1 && break
    sleep 0.5
  done
  "$bench" latency --base-url "http://127.0.0.1:$http_port" --requests "$requests" --label "$label" \
    | tee "$out/latency-$label.json"
  kill "$runner" 2>/dev/null || true
  wait "$runner" 2>/dev/null || true
  runner=""
}

echo "POST -> assigned, $requests requests one at a time:"
run_latency before "$before" "$root/target/bench-before/debug/citydesk-local" bench-before 3211
run_latency after "$root" "$root/target/debug/citydesk-local" bench-after 3212

tables=()
for count in 100 20000; do
  .venv/bin/python infra/local/deploy_stack.py --template template.yaml --endpoint-url "$endpoint" \
    --stack-name "bench-reads-$count" --out "$out/stack-reads-$count.json" --recreate >"$out/deploy-reads-$count.log" 2>&1
  tables+=("$(.venv/bin/python -c 'import json,sys; print(json.load(open(sys.argv[1]))["resources"]["Table"])' "$out/stack-reads-$count.json")")
done
echo
echo "Items read per routed request:"
"$bench" reads --endpoint "$endpoint" --others 100,20000 --tables "$(IFS=,; echo "${tables[*]}")" | tee "$out/reads.txt"

echo
.venv/bin/python - "$out/latency-before.json" "$out/latency-after.json" <<'PY'
import json, sys
b, a = (json.load(open(p)) for p in sys.argv[1:3])
print("| POST -> assigned | before (send after commit) | after (change stream) | difference |")
print("|---|---|---|---|")
for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms"):
    print(f"| {k[:-3]} | {b[k]:.0f} ms | {a[k]:.0f} ms | {a[k]-b[k]:+.0f} ms |")
PY
