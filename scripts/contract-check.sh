#!/usr/bin/env bash
# The contract check: the release server on the default fixtures, schemathesis run against each
# of its four OpenAPI documents, authenticated, with `--checks all` (schemathesis.toml says which
# checks cannot apply to an emulator, and why) and enough examples to reach every operation
# (stateful sequences included), then the OpenAPI linter (scripts/lint-openapi.sh). Traffic goes to
# 127.0.0.1 only; every run is bounded in time. Exits non-zero on any failure.
#   bash scripts/contract-check.sh [path/to/soundcheck]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/soundcheck}
PORT=${PORT:-18290}
MAX_EXAMPLES=${MAX_EXAMPLES:-30}
if ! command -v st >/dev/null; then
  python3 -m pip install -q 'schemathesis==4.32.5' >/dev/null 2>&1
fi
[ -x "$BIN" ] || cargo build --release --bin soundcheck
WORK=$(mktemp -d)
cleanup() { [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null; wait "${SERVER:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

BASE="http://127.0.0.1:$PORT"
SOUNDCHECK_HASH_COST=fast "$BIN" --db "$WORK/contract.db" --addr "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -fs -o /dev/null "$BASE/_soundcheck/health" && break; sleep 0.1; done
# Keys whose limits are out of the way: the checks are about shapes, not quotas.
MUSIQUE=$("$BIN" keys create --api musique --company msk --db "$WORK/contract.db" --hash-cost fast \
  --limits 100000000/100000000/100000000 | tail -1)
MUSICARK=$("$BIN" keys create --api musicark --tier enterprise --monthly-limit 100000000 \
  --db "$WORK/contract.db" --hash-cost fast | tail -1)
# The catalogue is indexed in the background; wait for it.
for _ in $(seq 300); do
  curl -fs "$BASE/_soundcheck/health" | grep -q '"status":"ready"}' && break; sleep 0.1
done

run() { # name, document, then extra schemathesis arguments
  local name=$1 doc=$2; shift 2
  echo "== schemathesis: $name ($doc)"
  local code=0
  st run "$BASE/openapi/$doc" --checks all --max-examples "$MAX_EXAMPLES" \
    --generation-deterministic --max-time "${MAX_TIME:-75}" --wait-for-schema 10 --no-color "$@" \
    >"$WORK/$name.txt" 2>&1 || code=$?
  # The failures in full, then the summary.
  sed -n '/^=* FAILURES/,/^=* SUMMARY/p; /^=* SUMMARY/,$p' "$WORK/$name.txt" | grep -v '^$' | head -"${REPORT_LINES:-80}"
  return $code
}
status=0
# Revoking the calling key would leave every later request a 401: that operation gets a key
# of its own, in a run of its own.
run musique musique.json -H "X-API-Key: $MUSIQUE" || status=1
run musique-legacy musique-legacy.json -H "X-API-Key: $MUSIQUE" --exclude-operation-id legacyRevokeToken || status=1
DOOMED=$("$BIN" keys create --api musique --company msk --db "$WORK/contract.db" --hash-cost fast | tail -1)
MAX_TIME=20 run musique-revoke musique-legacy.json -H "X-API-Key: $DOOMED" --include-operation-id legacyRevokeToken \
  --phases coverage,fuzzing || status=1
run musicark musicark.json -H "Authorization: Bearer $MUSICARK" || status=1
# Clearing the journal (DELETE …/requests) empties a list that stays, by design. The stateful
# phase does not honour a per-operation switch in schemathesis.toml for use_after_free (ST301
# seen in CI on 2026-12-03), so this is the one place the control document's run turns it off.
run control control.json --exclude-checks use_after_free || status=1
echo "== OpenAPI lint (Redocly CLI)"
bash scripts/lint-openapi.sh || status=1
if [ $status -ne 0 ]; then
  echo "== contract check FAILED; server log tail:"; tail -20 "$WORK/server.log"
fi
exit $status
