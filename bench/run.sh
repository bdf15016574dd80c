#!/usr/bin/env bash
# The soundcheck benchmark: release server vs a bare axum "hello" on the same machine, loaded
# from another process (wrk) over loopback with 64 connections. Traffic goes to 127.0.0.1 only;
# every run is bounded in time. Prints the figures BENCHMARKS.md records.
#   bash bench/run.sh            (DURATION=10s by default)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/setup.sh
DURATION=${DURATION:-10s}
PORT=${PORT:-18181}
HELLO_PORT=${HELLO_PORT:-18182}
CONNS=64

if ! command -v wrk >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi
cargo build --release --bin soundcheck --example hello 2>&1 | tail -1
BIN=target/release/soundcheck
WORK=$(mktemp -d)
cleanup() { kill "${SERVER:-}" "${HELLO:-}" 2>/dev/null || true; rm -rf "$WORK"; }
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

run() { # name, then wrk arguments
  local name=$1; shift
  echo "== $name"
  wrk -t2 -c$CONNS -d"$DURATION" --latency "$@" | grep -E "Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors"
}
run "GET /health" -H "$H" "$BASE/health"
run "GET /audio (20 items)" -H "$H" "$BASE/audio"
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
kill $HELLO; wait $HELLO 2>/dev/null || true; HELLO=

# SKIP_MUSICARK=1 runs the Musique part alone.
[ -n "${SKIP_MUSICARK:-}" ] || bash bench/musicark.sh
