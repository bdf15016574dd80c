#!/usr/bin/env bash
# The MusicArk part of the benchmark: generated catalogues of 10,000 and 100,000 songs (SIZES), the
# release server started on an already-built database, each query's latency with one
# connection (what the server spends, with loopback in between) and /songs under 64.
# Called by bench/run.sh; traffic goes to 127.0.0.1 only and every run is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/soundcheck
PORT=${PORT:-18183}
DURATION=${DURATION:-10s}
WORK=$(mktemp -d)
cleanup() { kill "${SERVER:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# SIZES="1000000" bash bench/musicark.sh runs the million-song figures on their own.
for N in ${SIZES:-10000 100000}; do
  echo "== MusicArk, $N songs"
  "$BIN" fixtures generate --songs "$N" --seed 7 --out "$WORK/fx$N" >/dev/null
  DB="$WORK/ark$N.db"
  START=$(date +%s%N)
  RUST_LOG=warn "$BIN" --db "$DB" --addr "127.0.0.1:$PORT" --fixtures "$WORK/fx$N" >/dev/null 2>&1 &
  SERVER=$!
  for _ in $(seq 600); do curl -fs -o /dev/null -H "Authorization: Bearer mk_live_free0000000000000000000000000000" "http://127.0.0.1:$PORT/api/v1/songs?limit=1" && break; sleep 0.05; done
  echo "first start (seeding $N songs, then the index): $(( ($(date +%s%N) - START) / 1000000 )) ms"
  kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=

  python3 bench/startup.py "$BIN" "$DB" "$PORT" 5 --keep-db -- --fixtures "$WORK/fx$N"
  python3 bench/startup.py "$BIN" "$DB" "$PORT" 5 --keep-db --path "/api/v1/songs?limit=1" \
    --key "Authorization: Bearer mk_live_free0000000000000000000000000000" -- --fixtures "$WORK/fx$N"

  RUST_LOG=warn "$BIN" --db "$DB" --addr "127.0.0.1:$PORT" >/dev/null 2>&1 &
  SERVER=$!
  KEY=$("$BIN" keys create --api musicark --tier enterprise --monthly-limit 1000000000 --db "$DB" | tail -1)
  H="Authorization: Bearer $KEY"
  B="http://127.0.0.1:$PORT/api/v1"
  for _ in $(seq 600); do curl -fs -o /dev/null -H "$H" "$B/songs?limit=1" && break; sleep 0.05; done
  ID=$(curl -fs -H "$H" "$B/songs?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
  OFFSET=$(( N * 9 / 10 ))
  for q in "/songs?sort=title&offset=$OFFSET" "/search/text?q=love" "/search/color?h=280" \
           "/search/emotional?min_valence=500&max_arousal=600&min_nostalgia=300" "/songs/$ID"; do
    printf '%-75s ' "$q (1 connection)"
    wrk -t1 -c1 -d3s --latency -H "$H" "$B$q" | awk '/^ +50%/{p50=$2} /^ +99%/{p99=$2} /Requests\/sec/{rps=$2} /Non-2xx/{bad=$0} END{print "p50", p50, "p99", p99, "req/s", rps, bad}'
  done
  printf '%-75s ' "/songs (64 connections)"
  wrk -t2 -c64 -d"$DURATION" --latency -H "$H" "$B/songs" | awk '/^ +50%/{p50=$2} /^ +99%/{p99=$2} /Requests\/sec/{rps=$2} /Non-2xx/{bad=$0} END{print "p50", p50, "p99", p99, "req/s", rps, bad}'
  echo "peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2, $3}')"
  kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
done
