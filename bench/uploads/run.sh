#!/usr/bin/env bash
# Upload benchmark: N concurrent uploads of one ~200 MB WAV file to
# POST /api/meetings/{id}/recordings (streamed to DATA_DIR/tmp while hashed, probed, stored in
# the blob store), against the reference `cat FILE > DATA_DIR/...` of the same bytes N times
# concurrently on the same disk. Prints the server's RSS growth (target <= 64 MiB), both
# throughputs and their ratio. Workers are off (QUEUE_WORKERS=0): this measures intake only.
# usage: bench/uploads/run.sh [BUILD_DIR] [CONCURRENT] [MEGABYTES]
set -euo pipefail
BUILD=${1:-build/release}
N=${2:-20}
MB=${3:-200}
BIN=$(realpath "$BUILD/crm-ai")
WORK=$(mktemp -d "${BENCH_TMP:-/tmp}/crm-upload-bench.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
NEED=$(( (2 * N + 1) * MB ))
FREE=$(df -Pm "$WORK" | awk 'NR==2 {print $4}')
[ "$FREE" -gt "$NEED" ] || { echo "needs ${NEED} MB free in $(dirname "$WORK"), has ${FREE} MB (set BENCH_TMP)" >&2; exit 1; }
export DATA_DIR="$WORK/data" RATE_LIMIT_API=off LOG_LEVEL=warn APP_PORT=18090 APP_HOST=127.0.0.1 QUEUE_WORKERS=0
# 48 kHz stereo 16-bit PCM: 192,000 bytes per second of noise.
SECONDS_OF_AUDIO=$(( MB * 1000000 / 192000 ))
ffmpeg -v error -y -f lavfi -i "anoisesrc=d=${SECONDS_OF_AUDIO}:c=pink:r=48000" -ac 2 -c:a pcm_s16le "$WORK/rec.wav"
SIZE=$(stat -c %s "$WORK/rec.wav")
FIRM=$("$BIN" firm create --name "Cabinet Banc d'Essai")
KEY=$("$BIN" apikey create --firm "$FIRM" --name bench)
"$BIN" serve 2>"$WORK/serve.log" &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:18090/health/live" >/dev/null && break; sleep 0.1; done
H=(-H "Authorization: Bearer $KEY" -H 'Content-Type: application/json')
CLIENT=$(curl -sf "${H[@]}" -d '{"name":"Client banc"}' http://127.0.0.1:18090/api/clients | sed 's/.*"id":"\([^"]*\)".*/\1/')
MEETING=$(curl -sf "${H[@]}" -d "{\"client_id\":\"$CLIENT\",\"title\":\"RDV\",\"starts_at\":\"2026-12-01T09:00:00Z\"}" \
  http://127.0.0.1:18090/api/meetings | sed 's/.*"id":"\([^"]*\)".*/\1/')
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$SERVER/status"; }
RSS0=$(rss_kb)
PEAK_FILE="$WORK/peak"
echo "$RSS0" > "$PEAK_FILE"
( while kill -0 "$SERVER" 2>/dev/null; do r=$(rss_kb); p=$(cat "$PEAK_FILE"); [ "$r" -gt "$p" ] && echo "$r" > "$PEAK_FILE"; sleep 0.05; done ) &
SAMPLER=$!
now() { date +%s.%N; }

T0=$(now)
for i in $(seq "$N"); do
  curl -s -o "$WORK/out.$i" -w '%{http_code}\n' -T "$WORK/rec.wav" -X POST -H "Authorization: Bearer $KEY" \
    -H 'Content-Type: audio/wav' "http://127.0.0.1:18090/api/meetings/$MEETING/recordings?consent=true" > "$WORK/code.$i" &
done
wait $(jobs -p | grep -v -w "$SERVER" | grep -v -w "$SAMPLER") 2>/dev/null || true
T1=$(now)
OK=$(cat "$WORK"/code.* | grep -c '^201$' || true)
kill "$SAMPLER" 2>/dev/null || true
PEAK=$(cat "$PEAK_FILE")

# Reference: the same bytes copied by cat, N at once, into the same data directory.
sync
mkdir -p "$DATA_DIR/ref"
T2=$(now)
for i in $(seq "$N"); do cat "$WORK/rec.wav" > "$DATA_DIR/ref/copy.$i" & done
wait $(jobs -p | grep -v -w "$SERVER") 2>/dev/null || true
sync
T3=$(now)

awk -v n="$N" -v size="$SIZE" -v ok="$OK" -v t0="$T0" -v t1="$T1" -v t2="$T2" -v t3="$T3" \
    -v rss0="$RSS0" -v peak="$PEAK" 'BEGIN {
  total = n * size / 1048576
  up = total / (t1 - t0); ref = total / (t3 - t2)
  printf "%d concurrent uploads of %.1f MiB (%d answered 201)\n", n, size / 1048576, ok
  printf "crm-ai uploads : %8.1f MiB/s (%.2f s)\n", up, t1 - t0
  printf "cat to disk    : %8.1f MiB/s (%.2f s)\n", ref, t3 - t2
  printf "ratio crm-ai / cat: %.2f\n", up / ref
  printf "server RSS: %.1f MiB before, %.1f MiB peak, growth %.1f MiB (target <= 64 MiB)\n",
         rss0 / 1024, peak / 1024, (peak - rss0) / 1024
}'
