#!/usr/bin/env bash
# End-to-end detection comparison: the gotestwaf sets (and CSIC 2010's legitimate
# requests) replayed against Centinela and against Apache + ModSecurity + OWASP CRS
# at paranoia 1 and 2, all in front of the same demo upstream, in the same run.
#
# Usage: bench/load/waf_compare.sh CORPUS_DIR        (e.g. ../shared/corpus)
#   SKIP_CRS=1     Centinela only (also the fallback when apache2 cannot be installed)
#   INSTALL=0      do not try apt-get
#   CSIC=0         skip the 36,000 CSIC requests
#
# Needs root for apt-get (Debian packages apache2, libapache2-mod-security2,
# modsecurity-crs; CRS 3.3.4 on Debian 12). Apache runs from a private config in a
# temporary directory (nothing under /etc is changed): mod_security2 with Debian's
# modsecurity.conf-recommended, SecRuleEngine On, the CRS setup with
# tx.paranoia_level (and the matching executing level) set, reverse proxy to the
# upstream. Centinela runs `serve` with anonymous routes for the test paths and
# inspection in block mode (the default policy otherwise).
set -euo pipefail
CORPUS=${1:?usage: waf_compare.sh CORPUS_DIR}
CORPUS=$(cd "$CORPUS" && pwd)
cd "$(dirname "$0")/../.."
SKIP_CRS=${SKIP_CRS:-0}
INSTALL=${INSTALL:-1}
CSIC=${CSIC:-1}

if [ "$SKIP_CRS" != 1 ] && { ! [ -x /usr/sbin/apache2 ] || ! [ -f /usr/lib/apache2/modules/mod_security2.so ]; }; then
  if [ "$SKIP_CRS" != 1 ] && [ "$INSTALL" = 1 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      apache2 libapache2-mod-security2 modsecurity-crs) >/dev/null 2>&1 || true
  fi
  if ! [ -f /usr/lib/apache2/modules/mod_security2.so ]; then
    echo "apache2 + mod_security2 not available: measuring Centinela alone" >&2
    SKIP_CRS=1
  fi
fi

cargo build --release -q -p centinela-bench --bin waf_replay
# CENTINELA_BIN: a binary built elsewhere (e.g. from a clean worktree while the
# checkout holds unfinished work that does not compile).
if [ -z "${CENTINELA_BIN:-}" ]; then
  cargo build --release -q -p centinela
fi
BIN=${CENTINELA_BIN:-$PWD/target/release/centinela}
REPLAY=$PWD/target/release/waf_replay
WORK=$(mktemp -d)
chmod 755 "$WORK"
cleanup() {
  for f in "$WORK"/apache-*/httpd.pid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
UPORT=$(free_port); GPORT=$(free_port)

"$BIN" demo-upstream --listen "127.0.0.1:$UPORT" >/dev/null 2>&1 &

# ---- Centinela ----------------------------------------------------------------
cat >"$WORK/centinela.toml" <<TOML
[server]
listen = "127.0.0.1:$GPORT"
data_dir = "$WORK"
[database]
url = "sqlite://$WORK/centinela.db"
[keys]
master_key_file = "$WORK/master.key"
[rate_limit]
per_ip = "off"
per_user = "off"
[[upstream]]
name = "demo"
url = "http://127.0.0.1:$UPORT"
[policy]
case = "sensitive"
# Scoring replays hundreds of attacks from one address: with alerting on, the
# blocked-requests-per-address rule would block 127.0.0.1 after twenty and every later
# request (benign ones too) would be refused for that, not for what it carries.
[alerts]
enabled = false
TOML
for p in "/api/public/search" "/api/public/search/{*rest}" "/tienda1/{*rest}"; do
  cat >>"$WORK/centinela.toml" <<TOML
[[route]]
path = "$p"
methods = ["GET", "HEAD", "POST", "PUT"]
upstream = "demo"
[route.inspect]
mode = "block"
[[route.allow]]
anyone = true
TOML
done
RUST_LOG=warn "$BIN" serve --config "$WORK/centinela.toml" >"$WORK/serve.log" 2>&1 &
for _ in $(seq 100); do curl -ks "https://127.0.0.1:$GPORT/api/public/search" -o /dev/null && break; sleep 0.1; done

results() {
  echo
  echo "### $1"
  echo
  "$REPLAY" "$CORPUS" "$2" ${3:-}
}

CSIC_FLAG=""
[ "$CSIC" = 1 ] && CSIC_FLAG="--csic"
results "Centinela (block mode, default weights and threshold)" "https://127.0.0.1:$GPORT" "$CSIC_FLAG"

# ---- Apache + ModSecurity + CRS ----------------------------------------------
if [ "$SKIP_CRS" != 1 ]; then
  M=/usr/lib/apache2/modules
  for PL in 1 2; do
    D="$WORK/apache-pl$PL"
    mkdir -p "$D"
    chmod 777 "$D"
    APORT=$(free_port)
    cp /etc/modsecurity/unicode.mapping "$D/"
    sed -e 's/^SecRuleEngine .*/SecRuleEngine On/' \
        -e "s#^SecAuditEngine .*#SecAuditEngine Off#" \
        -e "s#^SecTmpDir .*#SecTmpDir $D#" -e "s#^SecDataDir .*#SecDataDir $D#" \
        /etc/modsecurity/modsecurity.conf-recommended >"$D/modsecurity.conf"
    cp /etc/modsecurity/crs/crs-setup.conf "$D/crs-setup.conf"
    cat >>"$D/crs-setup.conf" <<CRS
SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=$PL"
SecAction "id:900001,phase:1,nolog,pass,t:none,setvar:tx.executing_paranoia_level=$PL"
CRS
    cat >"$D/httpd.conf" <<APACHE
ServerRoot "$D"
ServerName localhost
LoadModule mpm_event_module $M/mod_mpm_event.so
LoadModule authz_core_module $M/mod_authz_core.so
LoadModule unique_id_module $M/mod_unique_id.so
LoadModule headers_module $M/mod_headers.so
LoadModule proxy_module $M/mod_proxy.so
LoadModule proxy_http_module $M/mod_proxy_http.so
LoadModule security2_module $M/mod_security2.so
User www-data
Group www-data
Listen 127.0.0.1:$APORT
PidFile $D/httpd.pid
ErrorLog $D/error.log
LogLevel warn
Include $D/modsecurity.conf
Include $D/crs-setup.conf
Include /usr/share/modsecurity-crs/rules/*.conf
ProxyPass / http://127.0.0.1:$UPORT/
ProxyPassReverse / http://127.0.0.1:$UPORT/
APACHE
    /usr/sbin/apache2 -f "$D/httpd.conf" -k start
    for _ in $(seq 100); do curl -s "http://127.0.0.1:$APORT/api/public/search" -o /dev/null && break; sleep 0.1; done
    results "Apache 2.4 + ModSecurity 2 + OWASP CRS $(dpkg-query -W -f='${Version}' modsecurity-crs 2>/dev/null), paranoia $PL" "http://127.0.0.1:$APORT" "$CSIC_FLAG"
    /usr/sbin/apache2 -f "$D/httpd.conf" -k stop || true
    sleep 1
  done
fi
