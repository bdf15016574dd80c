#!/usr/bin/env bash
# The browser check of /docs: installs Debian's chromium and the npm package playwright-core
# if missing, starts the release server, and runs scripts/docs-browser-check.mjs, which
# asserts that every operation of every document is listed on the rendered page and that no
# request left the machine. Screenshots go to target/docs-check/.
#   bash scripts/docs-check.sh [path/to/soundcheck]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/soundcheck}
PORT=${PORT:-18291}
OUT=$(pwd)/target/docs-check
if ! command -v chromium >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
fi
TOOLS=target/docs-check-tools
if [ ! -d "$TOOLS/node_modules/playwright-core" ]; then
  mkdir -p "$TOOLS"
  (cd "$TOOLS" && npm install --no-save --silent --no-audit --no-fund playwright-core@1.64.1) >/dev/null
fi
[ -x "$BIN" ] || cargo build --release --bin soundcheck
WORK=$(mktemp -d)
cleanup() { [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null; wait "${SERVER:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
SOUNDCHECK_HASH_COST=fast "$BIN" --db "$WORK/docs.db" --addr "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/_soundcheck/health" && break; sleep 0.1; done
cp scripts/docs-browser-check.mjs "$TOOLS/"
node "$TOOLS/docs-browser-check.mjs" "http://127.0.0.1:$PORT" "$OUT"
echo "screenshots (CI artifacts): $OUT"
