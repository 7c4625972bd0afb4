#!/usr/bin/env bash
# Starts or stops the local AWS-API emulator (moto server, through
# infra/local/moto_server.py) on 127.0.0.1.
#
# Usage: infra/local/moto.sh start PORT   start it unless something answers on PORT
#        infra/local/moto.sh stop PORT    stop it if this script started it
#        infra/local/moto.sh status PORT  exit 0 if something answers on PORT
# Files: .local/moto-PORT.pid and .local/moto-PORT.log at the repo root.
# Needs .venv (infra/local/ensure-venv.sh).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
state_dir="$root/.local"
start_timeout_s=30

usage() { sed -n '2,8p' "$0" >&2; exit 2; }

[[ $# -eq 2 ]] || usage
cmd="$1"
port="$2"
if ! [[ "$port" =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then usage; fi
pid_file="$state_dir/moto-$port.pid"
log_file="$state_dir/moto-$port.log"

python_bin() {
  if [[ -x "$root/.venv/bin/python" ]]; then echo "$root/.venv/bin/python"; else echo python3; fi
}

answers() { # true when an HTTP server answers on the port
  "$(python_bin)" - "$port" <<'EOF' >/dev/null 2>&1
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=2)
except urllib.error.HTTPError:
    pass  # an HTTP answer of any status means the server is up
EOF
}

our_pid() { # prints the recorded pid if it is still our moto_server
  [[ -f "$pid_file" ]] || return 1
  local pid
  pid="$(cat "$pid_file")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  # Guard against pid reuse: the process must still be moto_server.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q moto_server || return 1
  echo "$pid"
}

start() {
  if [[ ! -x "$root/.venv/bin/moto_server" ]]; then
    echo "moto.sh: $root/.venv/bin/moto_server missing; run infra/local/ensure-venv.sh" >&2
    exit 1
  fi
  if answers; then
    return 0 # already running (ours or someone else's): use it as it is
  fi
  mkdir -p "$state_dir"
  rm -f "$pid_file"
  # setsid: the server outlives this shell and gets its own process group.
  # moto_server.py: moto's own server with DynamoDB calls made one at a time
  # (its transactions are not isolated otherwise; see the file).
  setsid "$root/.venv/bin/python" "$here/moto_server.py" -H 127.0.0.1 -p "$port" \
    >"$log_file" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$pid_file"
  local deadline=$((SECONDS + start_timeout_s))
  until answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "moto.sh: moto_server exited during start-up; log tail:" >&2
      tail -n 30 "$log_file" >&2
      rm -f "$pid_file"
      exit 1
    fi
    if (( SECONDS >= deadline )); then
      echo "moto.sh: moto_server did not answer on 127.0.0.1:$port within ${start_timeout_s}s; log tail:" >&2
      tail -n 30 "$log_file" >&2
      kill "$pid" 2>/dev/null || true
      rm -f "$pid_file"
      exit 1
    fi
    sleep 0.2
  done
}

stop() {
  local pid
  if ! pid="$(our_pid)"; then
    rm -f "$pid_file"
    return 0 # not started by us, or already gone
  fi
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) answers ;;
  *) usage ;;
esac
