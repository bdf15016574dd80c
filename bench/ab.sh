#!/usr/bin/env bash
# Paired A/B of two server builds on a busy machine: both are set up as bench/run.sh sets up
# one, then each phase alternates A and B for ROUNDS runs of D each and prints, per run, req/s
# and the server's CPU time per request (utime+stime from /proc, far less noisy than req/s
# when something else is using the cores), then each server's peak RSS. Loopback only.
#   bash bench/ab.sh OLD_BINARY NEW_BINARY     (PHASES="health list send upload" ROUNDS=3 D=5s)
# e.g. a build of the base commit in a second worktree against target/release/soundcheck.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/setup.sh
ROUNDS=${ROUNDS:-3}
D=${D:-5s}
declare -A BIN=([A]=$1 [B]=$2) PORTS=([A]=${PORT_A:-18473} [B]=${PORT_B:-18474}) PID TOK AUD
WORK=$(mktemp -d)
cleanup() { kill "${PID[A]:-}" "${PID[B]:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for k in A B; do
  RUST_LOG=warn "${BIN[$k]}" --db "$WORK/$k.db" --addr "127.0.0.1:${PORTS[$k]}" >/dev/null 2>&1 &
  PID[$k]=$!
  wait_ready "${PORTS[$k]}"
  TOK[$k]=$(bench_key "${BIN[$k]}" "$WORK/$k.db")
  AUD[$k]=$(bench_library "${PORTS[$k]}" "${TOK[$k]}")
done
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; } # clock ticks
rate() { # pid, then wrk arguments
  local pid=$1 c0 c1 out n; shift
  c0=$(cpu "$pid"); out=$(wrk -t2 -c64 -d"$D" "$@"); c1=$(cpu "$pid")
  n=$(echo "$out" | awk '/requests in/{print $1}')
  echo "$out" | awk -v c=$((c1 - c0)) -v n="$n" -v hz="$(getconf CLK_TCK)" \
    '/Requests\/sec/{printf "%7.0f/s %6.0f us", $2, c * 1e6 / hz / n}'
}
# Sends add plays that GET /audio then summarizes, so list runs before send, as in run.sh.
for phase in ${PHASES:-health list send upload}; do
  printf "%-7s" "$phase"
  for _ in $(seq "$ROUNDS"); do
    for k in A B; do
      H="X-API-Key: ${TOK[$k]}"
      BASE="http://127.0.0.1:${PORTS[$k]}/api/v1/integration"
      case $phase in
        health) v=$(rate "${PID[$k]}" -H "$H" "$BASE/health") ;;
        list) v=$(rate "${PID[$k]}" -H "$H" "$BASE/audio") ;;
        send) v=$(rate "${PID[$k]}" -H "$H" -s bench/send.lua "$BASE/audio/${AUD[$k]}/send") ;;
        upload) v=$(MP3=tests/fixtures/speech_like_1mb.mp3 rate "${PID[$k]}" -H "$H" -s bench/upload.lua "$BASE/audio") ;;
      esac
      printf " | %s %s" "$k" "$v"
    done
  done
  echo
done
for k in A B; do echo "$k peak RSS: $(awk '/VmHWM/{print $2, $3}' "/proc/${PID[$k]}/status")"; done
