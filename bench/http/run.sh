#!/usr/bin/env bash
# HTTP benchmark: an authenticated `GET /api/clients?limit=50` served by crm-ai, against nginx
# serving a static file of the same response size on the same machine, both with wrk at 64
# connections. Prints requests/s and p99 latency of both and their ratio.
#
# Same conditions for both: wrk (2 threads) shares the machine's cores with the server, neither
# side is pinned; crm-ai has LOG_LEVEL=warn (no access log) as nginx has access_log off. The two
# are measured in alternation, ROUNDS times, so that other load on the machine affects both; each
# round prints its own ratio and the last line gives the medians.
# usage: bench/http/run.sh [BUILD_DIR] [SECONDS] [ROUNDS]
set -euo pipefail
BUILD=${1:-build/release}
SECS=${2:-10}
ROUNDS=${3:-1}
BIN=$(realpath "$BUILD/crm-ai")
command -v wrk >/dev/null || { echo "wrk is missing: run scripts/setup.sh" >&2; exit 1; }
command -v nginx >/dev/null || { echo "nginx is missing: run scripts/setup.sh" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null; rm -rf "$WORK"' EXIT
export DATA_DIR="$WORK/data" RATE_LIMIT_API=off LOG_LEVEL=warn APP_PORT=18080 APP_HOST=127.0.0.1
FIRM=$("$BIN" firm create --name "Cabinet Banc d'Essai")
KEY=$("$BIN" apikey create --firm "$FIRM" --name bench)
"$BIN" serve 2>"$WORK/serve.log" &
for _ in $(seq 100); do curl -sf "http://127.0.0.1:18080/health/live" >/dev/null && break; sleep 0.1; done
for i in $(seq 1 60); do
  curl -sf -X POST "http://127.0.0.1:18080/api/clients" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    -d "{\"name\": \"Client n°$i Hélène Dupré\", \"email\": \"client$i@exemple.fr\", \"tags\": [\"bench\"], \"reference\": \"DOS-$i\", \"notes\": \"Dossier de succession, rendez-vous mensuel.\"}" >/dev/null
done
mkdir -p "$WORK/www"
curl -sf "http://127.0.0.1:18080/api/clients?limit=50" -H "Authorization: Bearer $KEY" > "$WORK/www/clients.json"
SIZE=$(stat -c %s "$WORK/www/clients.json")
cat > "$WORK/nginx.conf" <<NGINX
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:18081;
    root $WORK/www;
    location / { default_type application/json; }
  }
}
NGINX
nginx -c "$WORK/nginx.conf" -p "$WORK"
sleep 0.5
run_wrk() {  # url [header] -> "rps p99_ms"
  local out
  if [ -n "${2:-}" ]; then out=$(wrk -t2 -c64 -d"${SECS}s" --latency -H "$2" "$1"); else out=$(wrk -t2 -c64 -d"${SECS}s" --latency "$1"); fi
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}')
  echo "$rps $p99"
}
echo "response size: $SIZE bytes, 64 connections, 2 wrk threads, ${SECS}s each, $ROUNDS round(s); $(uptime | sed 's/.*load/load/')"
printf "%-7s %-28s %12s %10s\n" "round" "server" "requests/s" "p99 (ms)"
: > "$WORK/rounds"
for r in $(seq 1 "$ROUNDS"); do
  read -r CRM_RPS CRM_P99 < <(run_wrk "http://127.0.0.1:18080/api/clients?limit=50" "Authorization: Bearer $KEY")
  read -r NGX_RPS NGX_P99 < <(run_wrk "http://127.0.0.1:18081/clients.json")
  printf "%-7s %-28s %12.0f %10.2f\n" "$r" "crm-ai GET /api/clients" "$CRM_RPS" "$CRM_P99"
  printf "%-7s %-28s %12.0f %10.2f\n" "$r" "nginx static file" "$NGX_RPS" "$NGX_P99"
  awk -v a="$CRM_RPS" -v b="$NGX_RPS" -v r="$r" 'BEGIN {printf "%-7s ratio crm-ai / nginx: %.2f\n", r, a/b}'
  echo "$CRM_RPS $CRM_P99 $NGX_RPS $NGX_P99" >> "$WORK/rounds"
done
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
RATIO=$(awk '{print $1/$3}' "$WORK/rounds" | median)
CRM_P99=$(awk '{print $2}' "$WORK/rounds" | median)
awk -v a="$RATIO" 'BEGIN {printf "median ratio crm-ai / nginx: %.2f (target >= 0.5); ", a}'
awk -v p="$CRM_P99" 'BEGIN {printf "median crm-ai p99 %.2f ms (target < 20 ms)\n", p}'
