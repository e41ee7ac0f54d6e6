#!/usr/bin/env bash
# Checks every shipped file of deploy/ with the real tool that reads it:
#   nginx -t on the site file (a self-signed certificate made here), haproxy -c, systemd-analyze
#   verify on the units, compose.yaml's structure (services, images, health checks, no inline
#   secret), redis-server started with both Redis files on a free loopback port (and their
#   settings read back), mariadbd reading the MariaDB file (unknown options fail), and the
#   Dockerfile's stages. Usage: deploy_test.sh REPO_DIR
set -uo pipefail
repo=${1:?usage: deploy_test.sh REPO_DIR}
deploy="$repo/deploy"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }
py=python3; [ -x /usr/bin/python3 ] && py=/usr/bin/python3  # Debian's, with python3-yaml
free_port() { $py -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# --- a self-signed certificate for the TLS servers -------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=crm.example.fr \
  -keyout "$work/privkey.pem" -out "$work/fullchain.pem" 2>/dev/null || fail "openssl certificate"
cat "$work/fullchain.pem" "$work/privkey.pem" > "$work/haproxy.pem"

# --- nginx -----------------------------------------------------------------------------------
if command -v nginx >/dev/null; then
  mkdir -p "$work/nginx/logs" "$work/nginx/conf.d"
  sed -e "s#/etc/letsencrypt/live/crm.example.fr/#$work/#g" "$deploy/nginx/crm-ai.conf" \
    > "$work/nginx/conf.d/crm-ai.conf"
  cat > "$work/nginx/nginx.conf" <<CONF
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events {}
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  include $work/nginx/conf.d/*.conf;
}
CONF
  if out=$(nginx -t -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>&1); then
    pass "nginx -t deploy/nginx/crm-ai.conf"
  else
    fail "nginx -t deploy/nginx/crm-ai.conf: $out"
  fi
  conf="$deploy/nginx/crm-ai.conf"
  grep -Eq 'client_max_body_size +2[0-9][0-9]m;' "$conf" && pass "nginx upload limit >= 200M" ||
    fail "nginx: client_max_body_size of 200M or more"
  grep -q 'limit_req zone=' "$conf" && pass "nginx rate limits" || fail "nginx: no limit_req"
  # the server-sent events location turns buffering off
  awk '/location .*events/{e=1} e&&/proxy_buffering off/{f=1} e&&/}/{e=0} END{exit !f}' "$conf" &&
    pass "nginx SSE location unbuffered" || fail "nginx: events location without proxy_buffering off"
  # a broken copy must fail: the check itself can fail
  sed 's/client_max_body_size/client_max_body_sise/' "$work/nginx/conf.d/crm-ai.conf" > "$work/broken"
  mv "$work/broken" "$work/nginx/conf.d/crm-ai.conf"
  nginx -t -p "$work/nginx" -c "$work/nginx/nginx.conf" >/dev/null 2>&1 &&
    fail "nginx -t accepted a misspelt directive" || pass "nginx -t refuses a misspelt directive"
else
  fail "nginx not installed (scripts/setup.sh installs nginx-light)"
fi

# --- HAProxy ---------------------------------------------------------------------------------
if command -v haproxy >/dev/null; then
  sed "s#/etc/haproxy/certs/crm.example.fr.pem#$work/haproxy.pem#" "$deploy/haproxy/haproxy.cfg" \
    > "$work/haproxy.cfg"
  if out=$(haproxy -c -f "$work/haproxy.cfg" 2>&1); then
    pass "haproxy -c deploy/haproxy/haproxy.cfg"
  else
    fail "haproxy -c: $out"
  fi
  grep -q 'uri /health/ready' "$deploy/haproxy/haproxy.cfg" && pass "haproxy checks /health/ready" ||
    fail "haproxy: no health check on /health/ready"
else
  fail "haproxy not installed (scripts/setup.sh installs it)"
fi

# --- systemd units ---------------------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$work/units"
  for u in crm-ai.service crm-ai-worker@.service; do
    # the executable is checked for existence: point the copies at one that exists here
    sed "s#/opt/crm-ai/crm-ai#/bin/true#" "$deploy/systemd/$u" > "$work/units/$u"
  done
  cp "$work/units/crm-ai-worker@.service" "$work/units/crm-ai-worker@1.service"
  out=$(cd "$work/units" && systemd-analyze verify ./crm-ai.service ./crm-ai-worker@1.service 2>&1)
  rc=$?
  # unknown keys are only warnings for systemd; any output is a failure here
  if [ $rc -eq 0 ] && [ -z "$out" ]; then pass "systemd-analyze verify"; else fail "systemd-analyze verify: $out"; fi
  for u in crm-ai.service crm-ai-worker@.service; do
    for k in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes User=crm-ai \
             CapabilityBoundingSet= SystemCallFilter=@system-service; do
      grep -qx "$k" "$deploy/systemd/$u" || fail "$u: $k missing"
    done
  done
  grep -q 'ExecStart=/opt/crm-ai/crm-ai serve$' "$deploy/systemd/crm-ai.service" || fail "serve unit runs serve"
  grep -q 'ExecStart=/opt/crm-ai/crm-ai worker$' "$deploy/systemd/crm-ai-worker@.service" || fail "worker unit runs worker"
  pass "systemd units hardened"
else
  echo "skip systemd-analyze (not installed)"
fi

# --- compose.yaml ----------------------------------------------------------------------------
if out=$($py - "$deploy/compose.yaml" "$repo" <<'PY' 2>&1
import os, re, sys, yaml
path, repo = sys.argv[1], sys.argv[2]
d = yaml.safe_load(open(path))
errors = []
services = d.get("services", {})
for name in ["app", "worker", "mariadb", "redis", "minio", "gotenberg", "mailpit"]:
    if name not in services:
        errors.append(f"service {name} missing")
for name, s in services.items():
    if "image" not in s and "build" not in s:
        errors.append(f"{name}: neither image nor build")
    hc = s.get("healthcheck")
    if not hc or not isinstance(hc.get("test"), list) or not hc["test"]:
        errors.append(f"{name}: no healthcheck")
    for sec in s.get("secrets", []):
        if sec not in d.get("secrets", {}):
            errors.append(f"{name}: secret {sec} not declared")
    env = s.get("environment", {})
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    for k, v in env.items():
        if re.search(r"(PASSWORD|SECRET|KEY|TOKEN|PASSPHRASE)$", k) and not k.endswith("_ID"):
            errors.append(f"{name}: secret {k} given inline; use {k}_FILE")
    for vol in s.get("volumes", []):
        src = vol.split(":")[0]
        if src.startswith("./"):
            if not os.path.exists(os.path.join(os.path.dirname(path), src)):
                errors.append(f"{name}: mounted file {src} does not exist")
        elif src not in d.get("volumes", {}):
            errors.append(f"{name}: volume {src} not declared")
    for dep in s.get("depends_on", {}):
        if dep not in services:
            errors.append(f"{name}: depends on unknown {dep}")
    for p in s.get("ports", []):
        if not str(p).startswith("127.0.0.1:"):
            errors.append(f"{name}: port {p} published on every interface")
app = services.get("app", {})
b = app.get("build", {})
if not os.path.exists(os.path.join(os.path.dirname(path), b.get("context", "."), b.get("dockerfile", "Dockerfile"))):
    errors.append("app: build.dockerfile not found")
if services.get("worker", {}).get("command") != ["worker"]:
    errors.append("worker: command is not [worker]")
for k, v in app.get("environment", {}).items():
    if k in ("QUEUE_CONNECTION",) and v != "redis":
        errors.append("app: QUEUE_CONNECTION is not redis")
for sname, sec in d.get("secrets", {}).items():
    if "file" not in sec:
        errors.append(f"secret {sname}: not from a file")
print("\n".join(errors))
sys.exit(1 if errors else 0)
PY
); then pass "compose.yaml structure"; else fail "compose.yaml: $out"; fi
if command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
  mkdir -p "$work/secrets"
  (cd "$deploy" && docker compose -f compose.yaml config -q) && pass "docker compose config" || fail "docker compose config"
fi

# --- Dockerfile ------------------------------------------------------------------------------
df="$deploy/Dockerfile"
[ "$(grep -c '^FROM debian:12' "$df")" -ge 2 ] && pass "Dockerfile multi-stage on Debian 12" ||
  fail "Dockerfile: two Debian 12 stages expected"
grep -Eq '^USER [a-z]' "$df" && ! grep -Eq '^USER (root|0)' "$df" && pass "Dockerfile runs as non-root" ||
  fail "Dockerfile: no non-root USER"
grep -q '^HEALTHCHECK .*' "$df" && grep -q '/health/ready' "$df" && pass "Dockerfile health check" ||
  fail "Dockerfile: no HEALTHCHECK on /health/ready"

# --- Redis: start redis-server with each shipped file, read the settings back ----------------
check_redis() {  # FILE POLICY PASSWORD
  local conf=$1 policy=$2 pass_=$3 port dir
  port=$(free_port); dir="$work/redis-$port"; mkdir -p "$dir"
  # the shipped `dir` is a system path: the copy works in a temporary one
  sed "s#^dir .*#dir $dir#" "$conf" > "$dir/redis.conf"
  redis-server "$dir/redis.conf" --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize no \
    --logfile "$dir/log" >/dev/null 2>&1 &
  local pid=$!; pids+=("$pid")
  local i
  for i in $(seq 50); do
    REDISCLI_AUTH=$pass_ redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! kill -0 "$pid" 2>/dev/null; then
    fail "redis-server $conf did not start: $(tail -3 "$dir/log" 2>/dev/null)"; return
  fi
  get() { REDISCLI_AUTH=$pass_ redis-cli -p "$port" config get "$1" | sed -n 2p; }
  local errs=""
  [ "$(get maxmemory)" = 536870912 ] || errs+=" maxmemory=$(get maxmemory)"
  [ "$(get maxmemory-policy)" = "$policy" ] || errs+=" maxmemory-policy=$(get maxmemory-policy)"
  [ "$(get databases)" = 2 ] || errs+=" databases=$(get databases)"
  # no password: refused
  redis-cli -p "$port" ping 2>&1 | grep -q NOAUTH || errs+=" (answers without a password)"
  if [ "$policy" = noeviction ]; then
    [ "$(get appendonly)" = yes ] || errs+=" appendonly=$(get appendonly)"
    [ "$(get appendfsync)" = everysec ] || errs+=" appendfsync=$(get appendfsync)"
  fi
  [ -z "$errs" ] && pass "redis-server $(basename "$conf")" || fail "redis-server $(basename "$conf"):$errs"
  kill "$pid"; wait "$pid" 2>/dev/null
}
if command -v redis-server >/dev/null; then
  check_redis "$deploy/redis/redis.conf" noeviction change-me-to-a-long-random-secret
  check_redis "$deploy/redis/redis-cache.conf" allkeys-lru change-me-to-another-long-random-secret
  # a broken file must not start
  printf 'maxmemory-polcy allkeys-lru\n' > "$work/bad-redis.conf"
  timeout 5 redis-server "$work/bad-redis.conf" --port 0 >/dev/null 2>&1 &&
    fail "redis-server accepted a misspelt directive" || pass "redis-server refuses a misspelt directive"
else
  fail "redis-server not installed (scripts/setup.sh installs it)"
fi

# --- MariaDB: the server parses the file and reports the values it would run with -------------
if command -v mariadbd >/dev/null; then
  # --help --verbose reads every option of the file and fails on an unknown one, without
  # opening any data directory (the one given does not exist)
  out=$(mariadbd --defaults-file="$deploy/mariadb/crm-ai.cnf" --user=mysql \
        --datadir="$work/no-such-datadir" --help --verbose 2>&1)
  rc=$?
  errs=""
  [ $rc -eq 0 ] || errs+=" exit $rc: $(echo "$out" | grep -i error | head -2)"
  val() { echo "$out" | awk -v k="$1" '$1==k{print $2}'; }
  [ "$(val innodb-buffer-pool-size)" = 2147483648 ] || errs+=" buffer pool $(val innodb-buffer-pool-size)"
  [ "$(val innodb-log-file-size)" = 268435456 ] || errs+=" log file $(val innodb-log-file-size)"
  [ "$(val max-connections)" = 200 ] || errs+=" max_connections $(val max-connections)"
  [ "$(val long-query-time)" = 2 ] || errs+=" long_query_time $(val long-query-time)"
  [ "$(val slow-query-log)" = TRUE ] || errs+=" slow_query_log $(val slow-query-log)"
  [ "$(val character-set-server)" = utf8mb4 ] || errs+=" charset $(val character-set-server)"
  [ "$(val innodb-flush-log-at-trx-commit)" = 1 ] || errs+=" flush_log_at_trx_commit $(val innodb-flush-log-at-trx-commit)"
  [ -z "$errs" ] && pass "mariadbd reads deploy/mariadb/crm-ai.cnf" || fail "mariadb conf:$errs"
  printf '[mysqld]\ninnodb_bufer_pool_size = 2G\n' > "$work/bad.cnf"
  mariadbd --defaults-file="$work/bad.cnf" --user=mysql --datadir="$work/no-such-datadir" \
    --help --verbose >/dev/null 2>&1 && fail "mariadbd accepted a misspelt option" ||
    pass "mariadbd refuses a misspelt option"
else
  fail "mariadbd not installed (scripts/setup.sh installs mariadb-server)"
fi

if [ $failures -gt 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all deploy/ checks passed"
