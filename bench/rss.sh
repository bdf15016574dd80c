#!/usr/bin/env bash
# Where the Musique benchmark's memory goes: the server's resident set after each phase of
# `bench/run.sh` (same key, same library, same wrk loads), from /proc/PID/status. Traffic goes
# to 127.0.0.1 only; every phase is bounded in time.
#   bash bench/rss.sh [BINARY]        (DURATION=10s by default)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
PORT=${PORT:-18183}
BIN=${1:-target/release/soundcheck}
[ -n "${1:-}" ] || cargo build --release --bin soundcheck 2>&1 | tail -1
WORK=$(mktemp -d)
cleanup() { kill "${SERVER:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

RUST_LOG=warn "$BIN" --db "$WORK/bench.db" --addr "127.0.0.1:$PORT" >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 200); do curl -fs -o /dev/null -H "X-API-Key: msk_prod_1234567890abcdef" "http://127.0.0.1:$PORT/api/v1/integration/health" && break; sleep 0.05; done
sleep 1 # the catalogue indexes in the background
status() { # label
  awk -v l="$1" '/^(VmRSS|VmHWM|RssAnon|RssFile):/{v[$1]=sprintf("%6.1f", $2/1024)}
    END{printf "%-34s VmRSS %s MB  VmHWM %s MB  anon %s  file %s\n", l, v["VmRSS:"], v["VmHWM:"], v["RssAnon:"], v["RssFile:"]}' \
    "/proc/$SERVER/status"
}
status "started"
TOKEN=$("$BIN" keys create --api musique --company bench --db "$WORK/bench.db" \
  --external-ids b01,b02,b03,b04,b05,b06,b07,b08,b09,b10 --limits 1000000000/1000000000/1000000000 | tail -1)
H="X-API-Key: $TOKEN"
BASE="http://127.0.0.1:$PORT/api/v1/integration"
for i in $(seq 20); do
  AUDIO=$(curl -fs -H "$H" -F "file=@tests/fixtures/tone_1s.mp3" "$BASE/audio" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
done
status "20 uploads (key verified)"
load() { wrk -t2 -c64 -d"$DURATION" "$@" | awk '/Requests\/sec/{printf "  %s req/s\n", $2}'; }
load -H "$H" "$BASE/health"; status "GET /health"
load -H "$H" "$BASE/audio"; status "GET /audio"
load -H "$H" -s bench/send.lua "$BASE/audio/$AUDIO/send"; status "POST …/send to 10 stores"
curl -fs -H "$H" "$BASE/health" >/dev/null; status "idle"
MP3=tests/fixtures/speech_like_1mb.mp3 load -H "$H" -s bench/upload.lua -d 5s "$BASE/audio"
status "POST /audio (1 MB MP3), 5 s"
