#!/usr/bin/env bash
# `make run`: the whole system on this machine, in the foreground until Ctrl-C.
#   1. the AWS-API emulator (moto server, pinned, in .venv) on 127.0.0.1:$MOTO_PORT,
#      unless AWS_ENDPOINT_URL points elsewhere (LocalStack, or unset for a real account);
#   2. the stack of template.yaml created on it (infra/local/deploy_stack.py);
#   3. every function in one local runner process (citydesk-local) on 127.0.0.1:$PORT.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
port="${PORT:-3000}"
moto_port="${MOTO_PORT:-4566}"
stack="${STACK:-citydesk-local}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-eu-central-1}"

infra/local/ensure-venv.sh
started_moto=0
if [[ -z "${AWS_ENDPOINT_URL:-}" || "${AWS_ENDPOINT_URL}" == "http://127.0.0.1:${moto_port}" ]]; then
  export AWS_ENDPOINT_URL="http://127.0.0.1:${moto_port}"
  export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
  if ! infra/local/moto.sh status "$moto_port" >/dev/null 2>&1; then
    infra/local/moto.sh start "$moto_port"
    started_moto=1
  fi
fi
cleanup() { if [[ $started_moto == 1 ]]; then infra/local/moto.sh stop "$moto_port" || true; fi; }
trap cleanup EXIT

.venv/bin/python infra/local/deploy_stack.py --template template.yaml \
  --endpoint-url "$AWS_ENDPOINT_URL" --stack-name "$stack" --out ".local/stack-$stack.json" --recreate-if-changed
cargo build --quiet -p citydesk-local
target/debug/citydesk-local --stack-file ".local/stack-$stack.json" --listen "127.0.0.1:$port"
