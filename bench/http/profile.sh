#!/usr/bin/env bash
# Per-request cost of an authenticated `GET /api/clients?limit=50` (the page bench/http/run.sh
# measures), counted by callgrind: instruction counts are repeatable on a busy machine, unlike
# wall time. The server runs under callgrind with instrumentation off; after a warm-up, it is
# switched on for exactly N keep-alive requests and the profile is dumped.
# Prints Ir per request, heap allocations per request and the top functions (inclusive).
# usage: bench/http/profile.sh [BUILD_DIR] [N]
set -euo pipefail
BUILD=${1:-build/release}
N=${2:-1000}
BIN=$(realpath "$BUILD/crm-ai")
HERE=$(cd "$(dirname "$0")" && pwd)
command -v valgrind >/dev/null || { echo "valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
export DATA_DIR="$WORK/data" RATE_LIMIT_API=off LOG_LEVEL=${LOG_LEVEL:-warn} APP_PORT=18090 APP_HOST=127.0.0.1
FIRM=$("$BIN" firm create --name "Cabinet Banc d'Essai")
KEY=$("$BIN" apikey create --firm "$FIRM" --name bench)
"$BIN" serve 2>"$WORK/seed.log" &
SEED=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:18090/health/live" >/dev/null && break; sleep 0.1; done
for i in $(seq 1 60); do
  curl -sf -X POST "http://127.0.0.1:18090/api/clients" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    -d "{\"name\": \"Client n°$i Hélène Dupré\", \"email\": \"client$i@exemple.fr\", \"tags\": [\"bench\"], \"reference\": \"DOS-$i\", \"notes\": \"Dossier de succession, rendez-vous mensuel.\"}" >/dev/null
done
kill -TERM $SEED; wait $SEED || true
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$WORK/cg.out" \
  "$BIN" serve 2>"$WORK/serve.log" &
VG=$!
for _ in $(seq 600); do curl -sf "http://127.0.0.1:18090/health/live" >/dev/null && break; sleep 0.2; done
/usr/bin/python3 "$HERE/keepalive_client.py" 18090 "/api/clients?limit=50" "$KEY" "${WARMUP:-300}" >/dev/null
callgrind_control -i on $VG >/dev/null
/usr/bin/python3 "$HERE/keepalive_client.py" 18090 "/api/clients?limit=50" "$KEY" "$N"
callgrind_control -i off $VG >/dev/null
callgrind_control -d $VG >/dev/null
sleep 1
kill -TERM $VG; wait $VG || true
OUT=$(ls -S "$WORK"/cg.out* | head -1)
/usr/bin/python3 "$HERE/callgrind_summary.py" "$OUT" "$N"
[ -n "${KEEP_PROFILE:-}" ] && cp "$OUT" "$KEEP_PROFILE" || true
