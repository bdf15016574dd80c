#!/usr/bin/env bash
# Where the Musique benchmark's memory goes: the server's resident set after each phase of
# `bench/run.sh` (same key, same library, same wrk loads), from /proc/PID/status. Traffic goes
# to 127.0.0.1 only; every phase is bounded in time.
#   bash bench/rss.sh [BINARY]        (DURATION=10s by default)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/setup.sh
DURATION=${DURATION:-10s}
PORT=${PORT:-18183}
BIN=${1:-target/release/soundcheck}
[ -n "${1:-}" ] || cargo build --release --bin soundcheck 2>&1 | tail -1
WORK=$(mktemp -d)
cleanup() { kill "${SERVER:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

RUST_LOG=warn "$BIN" --db "$WORK/bench.db" --addr "127.0.0.1:$PORT" >/dev/null 2>&1 &
SERVER=$!
wait_ready "$PORT"
sleep 1 # the catalogue indexes in the background
status() { # label
  awk -v l="$1" '/^(VmRSS|VmHWM|RssAnon|RssFile):/{v[$1]=sprintf("%6.1f", $2/1024)}
    END{printf "%-34s VmRSS %s MB  VmHWM %s MB  anon %s  file %s\n", l, v["VmRSS:"], v["VmHWM:"], v["RssAnon:"], v["RssFile:"]}' \
    "/proc/$SERVER/status"
}
status "started"
TOKEN=$(bench_key "$BIN" "$WORK/bench.db")
AUDIO=$(bench_library "$PORT" "$TOKEN")
H="X-API-Key: $TOKEN"
BASE="http://127.0.0.1:$PORT/api/v1/integration"
status "20 uploads (key verified)"
load() { wrk -t2 -c64 -d"$DURATION" "$@" | awk '/Requests\/sec/{printf "  %s req/s\n", $2}'; }
load -H "$H" "$BASE/health"; status "GET /health"
load -H "$H" "$BASE/audio"; status "GET /audio"
load -H "$H" -s bench/send.lua "$BASE/audio/$AUDIO/send"; status "POST …/send to 10 stores"
curl -fs -H "$H" "$BASE/health" >/dev/null; status "idle"
MP3=tests/fixtures/speech_like_1mb.mp3 load -H "$H" -s bench/upload.lua -d 5s "$BASE/audio"
status "POST /audio (1 MB MP3), 5 s"
