#!/usr/bin/env bash
# Instructions the gateway executes per proxied request, counted by callgrind: a
# figure that does not move with the machine's load or the scheduler, for comparing
# commits where req/s on a shared VM varies by ±15 % from run to run.
#
# The gateway runs under valgrind (one runtime thread) with the demo upstream behind
# it; curl sends N requests on one keep-alive HTTP/1.1 TLS connection, then 3N, and
# the difference of the two instruction totals divided by 2N is the cost of one
# request without the TLS handshake or start-up. Userspace only: the kernel's share
# (TCP, wake-ups) is not counted; see the CPU columns of proxy_compare.sh for that.
#
# Four requests on the customers example policy: GET /api/public/search?q=... on its
# anonymous route (inspection of the query and response headers, no session), POST of
# the 1 KB JSON feedback form of proxy_compare.sh (load/feedback.json) to
# /api/public/feedback (anonymous, the body inspected), GET /api/customers/1 as a
# signed-in admin (session lookup, policy, identity assertion), and PUT of a 1 KB JSON
# body there as that admin.
#
# Usage: bench/load/proxy_instructions.sh [N]     (needs valgrind and curl)
#   KEEP=DIR copies each callgrind profile there, for callgrind_annotate, named after
#   the request and the number of requests it counts (LABEL.N.cg.out.K).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-200}
command -v valgrind >/dev/null || { echo "needs valgrind: apt-get install valgrind" >&2; exit 2; }
# BIN=... profiles another build (one with debug line tables, to read the profile).
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p centinela
  BIN=$PWD/target/release/centinela
fi
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
UPORT=$(free_port); GPORT=$(free_port)
export TOKIO_WORKER_THREADS=1

{
  printf '[server]\nlisten = "127.0.0.1:%s"\ndata_dir = "%s"\n' "$GPORT" "$WORK"
  printf '[database]\nurl = "sqlite://%s/centinela.db"\n[keys]\nmaster_key_file = "%s/master.key"\n' "$WORK" "$WORK"
  printf '[rate_limit]\nper_ip = "off"\nper_user = "off"\n'
  printf '[[upstream]]\nname = "demo"\nurl = "http://127.0.0.1:%s"\n' "$UPORT"
  sed -n '/^# ---- access policy/,$p' examples/customers/centinela.toml
} >"$WORK/centinela.toml"
PW='bench password that is long enough'
printf '%s\n' "$PW" | "$BIN" user add admin --role admin --config "$WORK/centinela.toml" >/dev/null 2>&1
"$BIN" demo-upstream --listen "127.0.0.1:$UPORT" >/dev/null 2>&1 &

RUST_LOG=warn valgrind --tool=callgrind --instr-atstart=no \
  --callgrind-out-file="$WORK/cg.out" "$BIN" serve --config "$WORK/centinela.toml" >"$WORK/serve.log" 2>&1 &
VG=$!
for _ in $(seq 300); do curl -ks "https://127.0.0.1:$GPORT/" -o /dev/null && break; sleep 0.2; done
SID=$(curl -ks -D - -o /dev/null -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$PW\"}" "https://127.0.0.1:$GPORT/_centinela/api/login" |
  sed -n 's/^set-cookie: __Host-centinela=\([^;]*\);.*/\1/ip' | tr -d '\r')
[ -n "$SID" ] || { echo "login failed" >&2; cat "$WORK/serve.log" >&2; exit 1; }
python3 -c 'import json; print(json.dumps({"name": "x" * 1000}))' >"$WORK/body.json"

# Instructions for `count` requests to `url` made by one curl with `options` (one
# connection; the options apply to every request).
count() { # count url options...
  local n=$1 url=$2; shift 2
  local urls=() i
  for ((i = 0; i < n; i++)); do urls+=(-o /dev/null "$url"); done
  rm -f "$WORK"/cg.out*
  callgrind_control -z "$VG" >/dev/null 2>&1
  callgrind_control -i on "$VG" >/dev/null 2>&1
  curl -ks --http1.1 "$@" "${urls[@]}"
  callgrind_control -i off "$VG" >/dev/null 2>&1
  callgrind_control -d "$VG" >/dev/null 2>&1
  sleep 0.5
  if [ -n "${KEEP:-}" ]; then
    local f
    for f in "$WORK"/cg.out*; do cp "$f" "$KEEP/$PROFILE.$n.${f##*/}"; done
  fi
  cat "$WORK"/cg.out* | sed -n 's/^totals: //p' | awk '{s += $1} END {print s}'
}

per_request() { # label url options...
  local label=$1 url=$2; shift 2
  # Read by count() (bash scoping) to name the profiles KEEP copies.
  local PROFILE
  PROFILE=$(printf '%s' "$label" | tr -c 'A-Za-z0-9' '_')
  curl -ks --http1.1 -o /dev/null "$@" "$url" # warm the pool and the caches first
  local a b
  a=$(count "$N" "$url" "$@")
  b=$(count $((3 * N)) "$url" "$@")
  printf '| %-36s | %9d |\n' "$label" $(((b - a) / (2 * N)))
}

U="https://127.0.0.1:$GPORT"
C="cookie: __Host-centinela=$SID"
echo "| request | instructions per request |"
echo "|---|---|"
per_request "GET search, anonymous route" "$U/api/public/search?q=red+running+shoes"
per_request "POST 1 KB JSON feedback, anonymous" "$U/api/public/feedback" \
  -H 'content-type: application/json' --data-binary @bench/load/feedback.json
per_request "GET, signed in, policy on" "$U/api/customers/1" -H "$C"
per_request "PUT 1 KB JSON, signed in, policy on" "$U/api/customers/1" -H "$C" -X PUT \
  -H 'content-type: application/json' --data-binary "@$WORK/body.json"
