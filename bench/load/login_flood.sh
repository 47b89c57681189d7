#!/usr/bin/env bash
# Proxied latency while a login flood hits the gateway.
#
# Starts the release binary on SQLite (or MySQL with DB_URL=mysql://...), logs one user
# in, then measures proxied GETs at a fixed rate twice: alone, and while 200 clients
# post wrong passwords as fast as the gateway answers. Prints both latency profiles
# and the flood's own latency and status codes.
#
# Usage: bench/load/login_flood.sh [SECONDS]     (needs `oha`: cargo install oha)
# Tunables (environment): FLOOD_CLIENTS=200 RATE=500 PROXY_CLIENTS=20 DB_URL=...
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-30}
FLOOD_CLIENTS=${FLOOD_CLIENTS:-200}
RATE=${RATE:-500}
PROXY_CLIENTS=${PROXY_CLIENTS:-20}
command -v oha >/dev/null || { echo "needs oha: cargo install oha" >&2; exit 2; }

cargo build --release -q -p centinela
BIN=$PWD/target/release/centinela
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port); UPORT=$(free_port)
DB_URL=${DB_URL:-sqlite://$WORK/centinela.db}

# The per-account and per-address locks would stop a flood from one address after a
# few dozen attempts, and the rest would be cheap 429s. To measure the worst case (a
# flood from many addresses, each attempt costing a full Argon2id verification), the
# lock thresholds are raised to their maximum and the window shortened.
cat > "$WORK/centinela.toml" <<TOML
[server]
listen = "127.0.0.1:$PORT"
data_dir = "$WORK"
[database]
url = "$DB_URL"
[keys]
master_key_file = "$WORK/master.key"
[rate_limit]
per_ip = "off"
per_user = "off"
[login]
max_failures = 1000
window = "10s"
lockout = "10s"
[[upstream]]
name = "app"
url = "http://127.0.0.1:$UPORT"
TOML

PW='bench password that is long enough'
printf '%s\n' "$PW" | "$BIN" user add bench --role customer --customer-id 1 --config "$WORK/centinela.toml" >/dev/null
printf '%s\n' "$PW" | "$BIN" user add bystander --role customer --config "$WORK/centinela.toml" >/dev/null
"$BIN" demo-upstream --listen "127.0.0.1:$UPORT" >/dev/null 2>&1 &
RUST_LOG=warn "$BIN" serve --config "$WORK/centinela.toml" >"$WORK/serve.log" 2>&1 &
for _ in $(seq 100); do curl -ks "https://127.0.0.1:$PORT/" -o /dev/null && break; sleep 0.1; done

SID=$(curl -ks -D - -o /dev/null -H 'content-type: application/json' \
  -d "{\"username\":\"bench\",\"password\":\"$PW\"}" "https://127.0.0.1:$PORT/_centinela/api/login" |
  sed -n 's/^set-cookie: __Host-centinela=\([^;]*\);.*/\1/ip' | tr -d '\r')
[ -n "$SID" ] || { echo "login failed" >&2; cat "$WORK/serve.log" >&2; exit 1; }

proxied() {
  oha --no-tui --insecure -z "${1}s" -q "$RATE" -c "$PROXY_CLIENTS" --latency-correction \
    -H "cookie: __Host-centinela=$SID" "https://127.0.0.1:$PORT/api/customers/1"
}
summary() { grep -E "Success rate|Requests/sec|(50|90|99|99.9)(\.00)?% in|\[[0-9]{3}\]|Error distribution|^\s+\[[0-9]+\]" ; }

echo "== proxied GET at $RATE req/s, no flood (${SECS}s)"
proxied "$SECS" | summary

echo "== login flood: $FLOOD_CLIENTS clients posting wrong passwords ($((SECS + 10))s)"
oha --no-tui --insecure -z "$((SECS + 10))s" -c "$FLOOD_CLIENTS" -m POST -T application/json \
  -d '{"username":"bench","password":"not the right password"}' \
  "https://127.0.0.1:$PORT/_centinela/api/login" >"$WORK/flood.txt" &
FLOOD=$!
sleep 5
# Meanwhile, another user signs in with the right password twice a second.
oha --no-tui --insecure -z "${SECS}s" -q 2 -c 2 -m POST -T application/json \
  -d "{\"username\":\"bystander\",\"password\":\"$PW\"}" \
  "https://127.0.0.1:$PORT/_centinela/api/login" >"$WORK/bystander.txt" &
BYSTANDER=$!
echo "== proxied GET at $RATE req/s during the flood (${SECS}s)"
proxied "$SECS" | summary
wait "$BYSTANDER" "$FLOOD" || true
echo "== another user's correct logins (2/s) during the flood"
summary <"$WORK/bystander.txt"
echo "== the flood itself"
summary <"$WORK/flood.txt"
