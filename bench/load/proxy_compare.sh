#!/usr/bin/env bash
# Throughput and latency of Centinela as a reverse proxy, against the upstream alone
# and nginx as a plain reverse proxy, on the same machine in the same run.
#
# Targets: the demo upstream directly (plain HTTP); nginx proxying it over plain HTTP
# and over TLS; Centinela over TLS (it has no plain-HTTP data listener) with the
# customers example policy, session validation and response hardening on (rate limits
# off). Two requests: GET /api/customers/1 and PUT /api/customers/1 with a 1 KB JSON
# body, both as a signed-in admin; then the public routes the request inspection
# guards, GET /api/public/search?q=... and POST /api/public/feedback with a 1 KB JSON
# form, anonymous, through nginx and through Centinela's policy gateway. Then
# Centinela's resident memory with 10,000 idle keep-alive TLS connections.
#
# On a small machine the load generator competes with the servers for CPU, and the
# scheduler's split between them decides the figures. PIN=1 (the default) runs the
# load generator on CPU 0 and every server (upstream, nginx with one worker, Centinela
# with one runtime thread) on CPU 1, so each proxy gets exactly one core; PIN=0 lets
# everything float. PIN=split runs the upstream beside the load generator on CPU 0 and
# only the proxy under test on CPU 1, as in production where the application runs in
# other pods: sharing its core with the upstream charges a proxy for every wake-up of
# the upstream that preempts it, which costs a proxy that is preempted mid-request
# (one task per connection, many requests in flight) more than an event loop that
# answers several requests per wake-up, and measures the scheduler as much as the
# proxy. The "CPU µs/req" columns (user + system time of the proxy's and the
# upstream's processes over the run, divided by the requests served) show that cost.
#
# With PINGORA=1 (the default when it is built: `cargo build --release --manifest-path
# bench/pingora/Cargo.toml`, which needs cmake) a bare pingora TLS proxy joins the
# table and the idle-memory test, as the alternative framework on the same script.
#
# Usage: bench/load/proxy_compare.sh [SECONDS] [CONNECTIONS]     (WARM=2 seconds of
#   warm-up before each measured run, WARM=0 for none)
#   needs nginx and a load generator: oha (cargo install oha) or wrk (apt-get install
#   wrk); LOADGEN=wrk picks wrk when both are installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-15}
CONNS=${2:-64}
IDLE=${IDLE:-10000}
# Seconds of unmeasured load before each run: the first seconds against a freshly
# started server ran up to 20 % slower (caches, allocator, page faults).
WARM=${WARM:-2}
PIN=${PIN:-1}
if [ "$PIN" != 0 ] && [ "$(nproc)" -ge 2 ]; then
  SRV="taskset -c 1"; GEN="taskset -c 0"; NGINX_WORKERS=1; export TOKIO_WORKER_THREADS=1
else
  SRV=""; GEN=""; NGINX_WORKERS=auto
fi
UPSRV=$SRV
[ "$PIN" = split ] && UPSRV=$GEN
LOADGEN=${LOADGEN:-$(command -v oha >/dev/null && echo oha || echo wrk)}
command -v "$LOADGEN" >/dev/null || { echo "needs oha (cargo install oha) or wrk (apt-get install wrk)" >&2; exit 2; }
command -v nginx >/dev/null || { echo "needs nginx: apt-get install nginx" >&2; exit 2; }

cargo build --release -q -p centinela
BIN=$PWD/target/release/centinela
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
UPORT=$(free_port); GPORT=$(free_port); NPORT=$(free_port); NTLS=$(free_port); PPORT=$(free_port)
GPORT2=$(free_port)
PINGORA_BIN=$PWD/bench/pingora/target/release/pingora-bench-proxy
PINGORA=${PINGORA:-$([ -x "$PINGORA_BIN" ] && echo 1 || echo 0)}

{
  printf '[server]\nlisten = "127.0.0.1:%s"\ndata_dir = "%s"\n' "$GPORT" "$WORK"
  printf '[database]\nurl = "sqlite://%s/centinela.db"\n[keys]\nmaster_key_file = "%s/master.key"\n' "$WORK" "$WORK"
  printf '[rate_limit]\nper_ip = "off"\nper_user = "off"\n'
  printf '[[upstream]]\nname = "demo"\nurl = "http://127.0.0.1:%s"\n' "$UPORT"
  sed -n '/^# ---- access policy/,$p' examples/customers/centinela.toml
} >"$WORK/centinela.toml"

# A second gateway with one anonymous route (inspection and headers still on, no
# session lookup or identity assertion): the transport's own cost, next to pingora's.
mkdir -p "$WORK/bare"
{
  printf '[server]\nlisten = "127.0.0.1:%s"\ndata_dir = "%s/bare"\n' "$GPORT2" "$WORK"
  printf '[database]\nurl = "sqlite://%s/bare/centinela.db"\n[keys]\nmaster_key_file = "%s/bare/master.key"\n' "$WORK" "$WORK"
  printf '[rate_limit]\nper_ip = "off"\nper_user = "off"\n'
  printf '[[upstream]]\nname = "demo"\nurl = "http://127.0.0.1:%s"\n' "$UPORT"
  printf '[[route]]\nname = "all"\npath = "/api/{*rest}"\nupstream = "demo"\n[[route.allow]]\nanyone = true\n'
} >"$WORK/bare.toml"

PW='bench password that is long enough'
printf '%s\n' "$PW" | "$BIN" user add admin --role admin --config "$WORK/centinela.toml" >/dev/null 2>&1
$UPSRV "$BIN" demo-upstream --listen "127.0.0.1:$UPORT" >/dev/null 2>&1 &
UP_PID=$!
RUST_LOG=warn $SRV "$BIN" serve --config "$WORK/centinela.toml" >"$WORK/serve.log" 2>&1 &
GW_PID=$!
RUST_LOG=warn $SRV "$BIN" serve --config "$WORK/bare.toml" >"$WORK/bare.log" 2>&1 &
BARE_PID=$!
for _ in $(seq 100); do curl -ks "https://127.0.0.1:$GPORT/" -o /dev/null && break; sleep 0.1; done

mkdir -p "$WORK/nginx/tmp"
cat >"$WORK/nginx/nginx.conf" <<NGINX
worker_processes $NGINX_WORKERS;
daemon on;
pid $WORK/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/tmp/body;
  proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
  scgi_temp_path $WORK/nginx/tmp/scgi;
  upstream demo { server 127.0.0.1:$UPORT; keepalive 64; }
  server {
    listen 127.0.0.1:$NPORT;
    listen 127.0.0.1:$NTLS ssl http2;
    ssl_certificate $WORK/dev-cert.pem;
    ssl_certificate_key $WORK/dev-key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      proxy_pass http://demo;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
NGINX
$SRV nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx"
for _ in $(seq 50); do [ -s "$WORK/nginx.pid" ] && break; sleep 0.1; done
NGINX_PIDS=("$(cat "$WORK/nginx.pid")")
mapfile -t -O 1 NGINX_PIDS < <(pgrep -P "${NGINX_PIDS[0]}")
if [ "$PINGORA" = 1 ]; then
  RUST_LOG=error $SRV "$PINGORA_BIN" "127.0.0.1:$PPORT" "127.0.0.1:$UPORT" "$WORK/dev-cert.pem" "$WORK/dev-key.pem" >"$WORK/pingora.log" 2>&1 &
  PG_PID=$!
  for _ in $(seq 100); do curl -ks "https://127.0.0.1:$PPORT/api/customers/1" -o /dev/null && break; sleep 0.1; done
fi

SID=$(curl -ks -D - -o /dev/null -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$PW\"}" "https://127.0.0.1:$GPORT/_centinela/api/login" |
  sed -n 's/^set-cookie: __Host-centinela=\([^;]*\);.*/\1/ip' | tr -d '\r')
[ -n "$SID" ] || { echo "login failed" >&2; cat "$WORK/serve.log" >&2; exit 1; }
BODY=$(python3 -c 'import json; print(json.dumps({"name": "x" * 1000}))')
# A typical 1 KB feedback form as JSON, for the public (anonymous, inspected) route.
FEEDBACK=$(cat bench/load/feedback.json)

# CPU time (user + system, in clock ticks) the given processes have used so far; the
# difference across a run, divided by the requests served, is the CPU each request
# cost, which the scheduler's split between processes does not change.
ticks() { local s=0 p f; for p in "$@"; do read -r -a f <"/proc/$p/stat"; s=$((s + f[13] + f[14])); done; echo "$s"; }
HZ=$(getconf CLK_TCK)

run() { # label url method [proxy pids...]
  local label=$1 url=$2 method=$3; shift 3
  local pids=("$@") t0 u0
  if [ "$LOADGEN" = wrk ]; then
    local lua="$WORK/req-$method.lua"
    if [ "$method" = PUT ]; then
      printf 'wrk.method = "PUT"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[%s]]\n' "$BODY" >"$lua"
    elif [ "$method" = POST ]; then
      printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[%s]]\n' "$FEEDBACK" >"$lua"
    else
      printf 'wrk.method = "GET"\n' >"$lua"
    fi
    [ "$WARM" -gt 0 ] && $GEN wrk -t1 -c "$CONNS" -d "${WARM}s" -s "$lua" "${COOKIE[@]}" "$url" >/dev/null
    t0=$(ticks "${pids[@]}" 2>/dev/null || echo 0); u0=$(ticks "$UP_PID")
    local out
    out=$($GEN wrk -t1 -c "$CONNS" -d "${SECS}s" --latency -s "$lua" "${COOKIE[@]}" "$url")
    local t1 u1
    t1=$(ticks "${pids[@]}" 2>/dev/null || echo 0); u1=$(ticks "$UP_PID")
    printf '%s\n' "$out" | python3 -c '
import re, sys
t = sys.stdin.read()
def ms(v):
    n = float(re.match(r"[0-9.]+", v).group()); u = v[len(re.match(r"[0-9.]+", v).group()):]
    return n * {"us": 0.001, "ms": 1.0, "s": 1000.0}[u]
rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", t).group(1))
n = int(re.search(r"(\d+) requests in", t).group(1))
hz, proxy, up = (int(x) for x in sys.argv[3:6])
cpu = lambda ticks: "%.0f" % (ticks * 1e6 / hz / n) if n and ticks else "-"
p50 = ms(re.search(r"\n\s+50%\s+(\S+)", t).group(1)); p99 = ms(re.search(r"\n\s+99%\s+(\S+)", t).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print("| %-28s | %-4s | %9.0f | %7.2f | %7.2f | %6s | %6s | %s |" % (sys.argv[1], sys.argv[2], rps, p50, p99, cpu(proxy), cpu(up), "non-2xx:%s" % bad.group(1) if bad else "all 2xx"))
' "$label" "$method" "$HZ" "$((t1 - t0))" "$((u1 - u0))"
    return
  fi
  local args=(--no-tui --insecure -c "$CONNS" --output-format json "${COOKIE[@]}")
  if [ "$method" = PUT ]; then args+=(-m PUT -T application/json -d "$BODY"); fi
  if [ "$method" = POST ]; then args+=(-m POST -T application/json -d "$FEEDBACK"); fi
  local out t1 u1
  [ "$WARM" -gt 0 ] && $GEN oha -z "${WARM}s" "${args[@]}" "$url" >/dev/null
  t0=$(ticks "${pids[@]}" 2>/dev/null || echo 0); u0=$(ticks "$UP_PID")
  out=$($GEN oha -z "${SECS}s" "${args[@]}" "$url")
  t1=$(ticks "${pids[@]}" 2>/dev/null || echo 0); u1=$(ticks "$UP_PID")
  printf '%s\n' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin); s = d["summary"]; p = d["latencyPercentiles"]
codes = d.get("statusCodeDistribution", {})
n = sum(codes.values())
hz, proxy, up = (int(x) for x in sys.argv[3:6])
cpu = lambda ticks: "%.0f" % (ticks * 1e6 / hz / n) if n and ticks else "-"
print("| %-28s | %-4s | %9.0f | %7.2f | %7.2f | %6s | %6s | %s |" % (sys.argv[1], sys.argv[2], s["requestsPerSec"], p["p50"]*1000, p["p99"]*1000, cpu(proxy), cpu(up), " ".join("%s:%s" % kv for kv in sorted(codes.items()))))
' "$label" "$method" "$HZ" "$((t1 - t0))" "$((u1 - u0))"
}

echo "| target | req | req/s | p50 ms | p99 ms | proxy CPU µs/req | upstream CPU µs/req | status codes |"
echo "|---|---|---|---|---|---|---|---|"
# The session cookie rides on the signed-in rows only (the public rows below send
# none, as an anonymous visitor has none).
COOKIE=(-H "cookie: __Host-centinela=$SID")
for m in GET PUT; do
  run "upstream direct (HTTP)" "http://127.0.0.1:$UPORT/api/customers/1" $m
  run "nginx proxy (HTTP)" "http://127.0.0.1:$NPORT/api/customers/1" $m "${NGINX_PIDS[@]}"
  run "nginx proxy (TLS)" "https://127.0.0.1:$NTLS/api/customers/1" $m "${NGINX_PIDS[@]}"
  [ "$PINGORA" = 1 ] && run "pingora bare proxy (TLS)" "https://127.0.0.1:$PPORT/api/customers/1" $m "$PG_PID"
  run "centinela (TLS, anonymous route)" "https://127.0.0.1:$GPORT2/api/customers/1" $m "$BARE_PID"
  run "centinela (TLS, policy on)" "https://127.0.0.1:$GPORT/api/customers/1" $m "$GW_PID"
done
# The inspection's own public routes of the customers example, as an anonymous visitor
# uses them (no cookie, no session lookup): the search GET (query inspected) and the
# feedback form POST with a 1 KB JSON body (body inspected), in block mode.
COOKIE=()
for m in GET POST; do
  path=/api/public/search?q=red+running+shoes
  [ "$m" = POST ] && path=/api/public/feedback
  run "nginx proxy (HTTP), public" "http://127.0.0.1:$NPORT$path" $m "${NGINX_PIDS[@]}"
  run "nginx proxy (TLS), public" "https://127.0.0.1:$NTLS$path" $m "${NGINX_PIDS[@]}"
  run "centinela (TLS), public" "https://127.0.0.1:$GPORT$path" $m "$GW_PID"
done

idle() { # port pid label
python3 - "$1" "$IDLE" "$2" "$3" <<'PY'
import asyncio, ssl, sys
port, n, pid, label = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
async def one(conns):
    r, w = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)
    w.write(b"GET /api/customers/1 HTTP/1.1\r\nHost: localhost\r\n\r\n"); await w.drain()
    await r.readuntil(b"\r\n\r\n")
    conns.append(w)
async def main():
    before = rss(); conns = []; sem = asyncio.Semaphore(200)
    async def guarded():
        async with sem:
            try: await one(conns)
            except Exception: pass
    await asyncio.gather(*(guarded() for _ in range(n)))
    await asyncio.sleep(1)
    print(f"{label}: idle connections open: {len(conns)}; RSS before {before:.1f} MiB, with them {rss():.1f} MiB")
    for w in conns: w.close()
asyncio.run(main())
PY
}
echo
echo "== resident memory with $IDLE idle keep-alive TLS connections"
ulimit -n 65536 2>/dev/null || true
idle "$GPORT" "$GW_PID" centinela
if [ "$PINGORA" = 1 ]; then idle "$PPORT" "$PG_PID" pingora; fi
