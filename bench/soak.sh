#!/usr/bin/env bash
# The soak: one server at default hash cost on 127.0.0.1, then the bursts of issue 11 (items
# 1-3 and 10) one after another, with the server's peak and final RSS per phase and a verified
# key's latency during the hashing bursts. Bounded (about three minutes), loopback only; the
# server is stopped at the end. See bench/soak.py for the phases.
#   bash bench/soak.sh [BINARY]   (env: PORT=18190 SEND_SECONDS=10 IDLE_WAIT=35 PHASES=abcde
#                                  SERVER_ARGS="--hash-queue 1000 …" for extra server flags)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/soundcheck}
[ -n "${1:-}" ] || cargo build --release --bin soundcheck 2>&1 | tail -1
exec python3 bench/soak.py "$BIN"
