# Sourced by the Musique benchmarks (run.sh, rss.sh, ab.sh): the one way they set a server up.
# Loopback only.

# wait_ready PORT: until the server answers its health check (10 s at most).
wait_ready() {
  for _ in $(seq 200); do
    curl -fs -o /dev/null -H "X-API-Key: msk_prod_1234567890abcdef" \
      "http://127.0.0.1:$1/api/v1/integration/health" && return 0
    sleep 0.05
  done
  echo "the server on port $1 did not come up" >&2
  return 1
}

# bench_key BINARY DB: prints a key for 10 stores whose limits are raised out of the way (the
# limiter still runs on every request), created as `keys create` creates any key.
bench_key() {
  "$1" keys create --api musique --company bench --db "$2" \
    --external-ids b01,b02,b03,b04,b05,b06,b07,b08,b09,b10 \
    --limits 1000000000/1000000000/1000000000 | tail -1
}

# bench_library PORT TOKEN: uploads 20 one-second tones and prints the last one's id.
bench_library() {
  local audio
  for _ in $(seq 20); do
    audio=$(curl -fs -H "X-API-Key: $2" -F "file=@tests/fixtures/tone_1s.mp3" \
      "http://127.0.0.1:$1/api/v1/integration/audio" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  done
  echo "$audio"
}
