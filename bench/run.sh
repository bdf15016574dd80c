#!/usr/bin/env bash
# The soundcheck benchmark: release server vs a bare axum "hello" on the same machine, loaded
# from another process (wrk) over loopback with 64 connections, then Prism mocking the same
# endpoint from soundcheck's Musique document. Traffic goes to 127.0.0.1 only; every run is
# bounded in time. Prints the figures BENCHMARKS.md records, and the ratios of one run.
#   bash bench/run.sh            (DURATION=10s by default; SKIP_PRISM=1 leaves Prism out)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/setup.sh
DURATION=${DURATION:-10s}
PORT=${PORT:-18181}
HELLO_PORT=${HELLO_PORT:-18182}
PRISM_PORT=${PRISM_PORT:-18184}
CONNS=64

if ! command -v wrk >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi
cargo build --release --bin soundcheck --example hello 2>&1 | tail -1
BIN=target/release/soundcheck
WORK=$(mktemp -d)
cleanup() { kill "${SERVER:-}" "${HELLO:-}" "${PRISM:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

echo "== machine: $(nproc) cores, $(uname -r); wrk -t2 -c$CONNS -d$DURATION"
python3 bench/startup.py "$BIN" "$WORK/startup.db" "$PORT" 7

RUST_LOG=warn "$BIN" --db "$WORK/bench.db" --addr "127.0.0.1:$PORT" >/dev/null 2>&1 &
SERVER=$!
wait_ready "$PORT"
TOKEN=$(bench_key "$BIN" "$WORK/bench.db")
AUDIO=$(bench_library "$PORT" "$TOKEN")
H="X-API-Key: $TOKEN"
BASE="http://127.0.0.1:$PORT/api/v1/integration"

run() { # name, then wrk arguments; leaves the run's req/s in RATE
  local name=$1; shift
  echo "== $name"
  wrk -t2 -c$CONNS -d"$DURATION" --latency "$@" >"$WORK/wrk.out"
  grep -E "Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors" "$WORK/wrk.out"
  RATE=$(awk '/Requests\/sec/{print $2}' "$WORK/wrk.out")
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a / b}'; }
run "GET /health" -H "$H" "$BASE/health"
run "GET /audio (20 items)" -H "$H" "$BASE/audio"
AUDIO_RATE=$RATE
run "POST /audio/{id}/send to 10 stores" -H "$H" -s bench/send.lua "$BASE/audio/$AUDIO/send"
# The peak so far (start-up, the bench key's one argon2id verification, the runs above), then
# the upload burst's own peak: writing 5 to clear_refs resets VmHWM to the current RSS.
hwm() { awk '/VmHWM/{print $2}' "/proc/$SERVER/status"; }
BEFORE_UPLOADS=$(hwm)
echo 5 2>/dev/null >"/proc/$SERVER/clear_refs" || true
MP3=tests/fixtures/speech_like_1mb.mp3 run "POST /audio (1 MB MP3)" -H "$H" -s bench/upload.lua -d 5s "$BASE/audio"
UPLOADS=$(hwm)
echo "== soundcheck peak RSS: $((BEFORE_UPLOADS > UPLOADS ? BEFORE_UPLOADS : UPLOADS)) kB" \
  "(before the upload burst: $BEFORE_UPLOADS kB; upload burst: $UPLOADS kB)"
kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=

target/release/examples/hello "127.0.0.1:$HELLO_PORT" &
HELLO=$!
sleep 0.3
run "bare axum hello (ceiling)" "http://127.0.0.1:$HELLO_PORT/"
CEILING=$RATE
kill $HELLO; wait $HELLO 2>/dev/null || true; HELLO=
echo "== GET /audio (20 items) ÷ bare axum ceiling, this run: $(ratio "$AUDIO_RATE" "$CEILING")"

# Prism mocking the committed Musique document. Prism ignores `servers` (by design, see its
# FAQ), so the document's GET /audio, which the server entry puts at /api/v1/integration/audio,
# is served at /audio. It checks only that X-API-Key is present (401 without) and answers 200
# with a body made from the AudioList schema (one item of placeholder values: the 200 has no
# example). Skipped, not failed, without Prism and without a network to install it from.
if [ -z "${SKIP_PRISM:-}" ] && ! command -v prism >/dev/null; then
  timeout 180 npm install -g --no-audit --no-fund --fetch-retries=1 --fetch-timeout=20000 \
    @stoplight/prism-cli@5.14 >/dev/null 2>&1 || true
fi
if [ -n "${SKIP_PRISM:-}" ]; then
  echo "== Prism: skipped (SKIP_PRISM is set)"
elif ! command -v prism >/dev/null; then
  echo "== Prism: skipped (not installed, and npm install -g @stoplight/prism-cli@5.14 failed)"
else
  prism mock -h 127.0.0.1 -p "$PRISM_PORT" openapi/musique.json >/dev/null 2>&1 &
  PRISM=$!
  PRISM_URL="http://127.0.0.1:$PRISM_PORT/audio"
  for _ in $(seq 600); do # Node takes a few seconds to start: 60 s at most
    [ "$(curl -s -o "$WORK/prism.json" -w '%{http_code}' -H "$H" "$PRISM_URL")" = 200 ] && break
    sleep 0.1
  done
  STATUS=$(curl -s -o "$WORK/prism.json" -w '%{http_code}' -H "$H" "$PRISM_URL" || true)
  if [ "$STATUS" = 200 ]; then
    echo "== Prism $(prism --version) mock of openapi/musique.json: GET /audio answers 200," \
      "$(wc -c <"$WORK/prism.json") bytes, $(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["audio"]))' \
      <"$WORK/prism.json") audio item(s) from the schema"
    run "Prism 5.14, GET /audio (the same operation)" -H "$H" "$PRISM_URL"
    echo "== GET /audio, soundcheck ÷ Prism, this run: $(ratio "$AUDIO_RATE" "$RATE")"
  else
    echo "== Prism: skipped (GET /audio answered ${STATUS:-nothing}, not 200)"
  fi
  kill $PRISM; wait $PRISM 2>/dev/null || true; PRISM=
fi

# SKIP_MUSICARK=1 runs the Musique part alone.
[ -n "${SKIP_MUSICARK:-}" ] || bash bench/musicark.sh
