#!/usr/bin/env bash
# Memory benchmark: does a long recording cost more memory than a short one?
#
# Builds a 2-hour recording and a 10-minute reference from the repository's real speech fixtures
# (tests/data/diarization/*.wav, AMI meeting clips, repeated end to end by ffmpeg's concat
# demuxer into a temporary directory), then measures the peak resident memory (maximum RSS from
# wait4, through /usr/bin/time) of `crm-ai diarize` and of `crm-ai transcribe` on both, in the
# same run. Transcription uses a random-weight tiny model (tools/whisper_reference) with greedy
# decoding and no temperature fallback, so two hours finish in minutes; memory does not depend on
# what the weights say. Prints each peak and the ratio 2 h / 10 min: near 1 means memory is
# bounded, 12 would mean it grows with the length. Not part of `make test`.
# usage: bench/memory/run.sh [BUILD_DIR] [LONG_MINUTES] [SHORT_MINUTES]
set -euo pipefail
BUILD=${1:-build/release}
LONG_MIN=${2:-120}
SHORT_MIN=${3:-10}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(realpath "$BUILD/crm-ai")
WORK=$(mktemp -d "${BENCH_TMP:-/tmp}/crm-memory-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FREE=$(df -Pm "$WORK" | awk 'NR==2 {print $4}')
NEED=$(( LONG_MIN * 2 + SHORT_MIN * 2 + 400 ))  # 16-bit 16 kHz WAV: ~2 MB a minute, plus the model
[ "$FREE" -gt "$NEED" ] || { echo "needs ${NEED} MB free in $(dirname "$WORK"), has ${FREE} MB (set BENCH_TMP)" >&2; exit 1; }

# A recording of at least `minutes`, the fixtures one after the other as many times as needed.
make_recording() {
  local minutes=$1 out=$2 list="$WORK/list-$1.txt" total=0
  : > "$list"
  while [ "$total" -lt $(( minutes * 60 )) ]; do
    for f in "$ROOT"/tests/data/diarization/*.wav; do
      local d
      d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$f" | cut -d. -f1)
      [ "${d:-0}" -ge 5 ] || continue
      echo "file '$f'" >> "$list"
      total=$(( total + d ))
    done
  done
  ffmpeg -v error -y -f concat -safe 0 -i "$list" -t $(( minutes * 60 )) -ar 16000 -ac 1 \
    -c:a pcm_s16le "$out"
}
make_recording "$SHORT_MIN" "$WORK/short.wav"
make_recording "$LONG_MIN" "$WORK/long.wav"
/usr/bin/python3 "$ROOT/tools/whisper_reference/make_model.py" \
  --vocab-from "$ROOT/tests/data/asr/for-tests-ggml-tiny.bin" --layout tiny --type f16 --seed 1 \
  --out "$WORK/tiny.bin" >/dev/null

# Runs a command; prints "peak_kb wall_seconds".
measure() {
  /usr/bin/time -f "%M %e" -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt" ||
    { echo "failed: $*" >&2; tail -3 "$WORK/stderr.txt" >&2; exit 1; }
  cat "$WORK/time.txt"
}
export TMPDIR="$WORK" VAD=silero LOG_LEVEL=warn
echo "load before: $(uptime | sed 's/.*load average: //')"
printf '%-12s %-10s %12s %10s\n' command recording "peak MB" "wall s"
declare -A PEAK
for cmd in diarize transcribe; do
  for rec in short long; do
    if [ "$cmd" = diarize ]; then
      read -r kb secs < <(measure "$BIN" diarize "$WORK/$rec.wav")
    else
      read -r kb secs < <(measure "$BIN" transcribe "$WORK/$rec.wav" --model "$WORK/tiny.bin" \
        --language en --beam-size 1 --no-fallback --threads 2)
    fi
    PEAK[$cmd-$rec]=$kb
    printf '%-12s %-10s %12.1f %10s\n' "$cmd" "$rec ($([ $rec = short ] && echo "$SHORT_MIN" || echo "$LONG_MIN") min)" \
      "$(echo "$kb / 1024" | bc -l)" "$secs"
  done
done
echo "load after: $(uptime | sed 's/.*load average: //')"
for cmd in diarize transcribe; do
  printf 'ratio %-10s %s min / %s min peak memory: %.2f\n' "$cmd" "$LONG_MIN" "$SHORT_MIN" \
    "$(echo "${PEAK[$cmd-long]} / ${PEAK[$cmd-short]}" | bc -l)"
done
