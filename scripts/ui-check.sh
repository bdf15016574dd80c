#!/usr/bin/env bash
# The browser check of the live page /_soundcheck/ui: installs Debian's chromium and the npm
# package playwright-core if missing, runs the page's unit tests (scripts/ui-view-test.mjs,
# plain node), starts the server, and runs scripts/ui-browser-check.mjs against it. Screenshots
# go to target/ui-check/ (the path is printed); bounded by a 2-minute timeout.
#   bash scripts/ui-check.sh [path/to/soundcheck]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/soundcheck}
PORT=${PORT:-18292}
OUT=$(pwd)/target/ui-check
if ! command -v chromium >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
fi
TOOLS=target/docs-check-tools
if [ ! -d "$TOOLS/node_modules/playwright-core" ]; then
  mkdir -p "$TOOLS"
  (cd "$TOOLS" && npm install --no-save --silent --no-audit --no-fund playwright-core@1.64.1) >/dev/null
fi
echo "== the page's pure functions (node)"
node --test scripts/ui-view-test.mjs
[ -x "$BIN" ] || cargo build --release --bin soundcheck
WORK=$(mktemp -d)
cleanup() {
  for pid in ${SERVER:-} ${GUARDED:-}; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
SOUNDCHECK_HASH_COST=fast "$BIN" --db "$WORK/ui.db" --addr "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
# A second server with an admin token: the page must ask for it.
TOKEN=ui-check-admin-token
SOUNDCHECK_HASH_COST=fast SOUNDCHECK_ADMIN_TOKEN=$TOKEN "$BIN" --db "$WORK/guarded.db" --addr "127.0.0.1:$((PORT + 1))" >"$WORK/guarded.log" 2>&1 &
GUARDED=$!
for port in "$PORT" "$((PORT + 1))"; do
  for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/_soundcheck/health" && break; sleep 0.1; done
done
grep -q "/_soundcheck/ui" "$WORK/server.log" || { echo "the start-up banner does not name /_soundcheck/ui"; cat "$WORK/server.log"; exit 1; }
cp scripts/ui-browser-check.mjs "$TOOLS/"
status=0
timeout 120 node "$TOOLS/ui-browser-check.mjs" "http://127.0.0.1:$PORT" "$OUT" "$(pwd)/tests/fixtures/tone_1s.mp3" \
  "http://127.0.0.1:$((PORT + 1))" "$TOKEN" || status=$?
if [ "$status" -ne 0 ]; then echo "== server log"; tail -50 "$WORK/server.log"; fi
echo "screenshots (CI artifacts): $OUT"
exit "$status"
