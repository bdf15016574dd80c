#!/usr/bin/env bash
# The tooling check: what an integrator does with soundcheck's served OpenAPI documents, with the
# real tools, pinned (package.json + package-lock.json, requirements.txt beside this script):
#   1. openapi-python-client, openapi-typescript + openapi-fetch and @hey-api/openapi-ts generate
#      a client from each document the server serves (/openapi/*.json);
#   2. scenario.py, every operation of those documents with its happy and error paths, runs
#      through each generated client (the TypeScript ones compiled by tsc, so a call the types
#      reject is an error), checking each status and that the body parses;
#   3. Prism in proxy mode with --errors, one proxy per document, sits in front of the server
#      while the scenario runs through it again, and must report no violation.
# Installs go into target/tooling (kept between runs, never global). Traffic goes to 127.0.0.1
# only; every step is bounded in time. Exits non-zero on any failure.
#   bash scripts/tooling/check.sh [path/to/soundcheck]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=scripts/tooling
BIN=${1:-target/debug/soundcheck}
CACHE=${TOOLING_CACHE:-$ROOT/target/tooling}
[ -x "$BIN" ] || cargo build --bin soundcheck

step() { echo "== tooling: $*"; }
mkdir -p "$CACHE/npm"

# --- installs (skipped when the pinned versions are already there)
if ! cmp -s "$HERE/package-lock.json" "$CACHE/npm/package-lock.json" || [ ! -d "$CACHE/npm/node_modules" ]; then
  step "npm ci (openapi-typescript, openapi-fetch, @hey-api/openapi-ts, prism, typescript)"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$CACHE/npm/"
  (cd "$CACHE/npm" && timeout 240 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
if ! cmp -s "$HERE/requirements.txt" "$CACHE/requirements.txt" || [ ! -x "$CACHE/venv/bin/python" ]; then
  step "pip install openapi-python-client"
  rm -rf "$CACHE/venv"
  python3 -m venv "$CACHE/venv"
  timeout 240 "$CACHE/venv/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt"
  cp "$HERE/requirements.txt" "$CACHE/requirements.txt"
fi
PY="$CACHE/venv/bin/python"
# Ports the system hands out, so that two checks at once (or a contract check) never collide.
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=${PORT:-$(free_port)}
NBIN="$CACHE/npm/node_modules/.bin"
export PATH="$CACHE/venv/bin:$PATH" # openapi-python-client formats with ruff, installed beside it

# --- the server, on a fresh database with the default sandbox
WORK="$CACHE/npm/run" # under node_modules' parent, so that the compiled scenarios find them
rm -rf "$WORK"; mkdir -p "$WORK/docs" "$WORK/py" "$WORK/logs"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
BASE="http://127.0.0.1:$PORT"
SOUNDCHECK_HASH_COST=fast "$BIN" --db "$WORK/tooling.db" --addr "127.0.0.1:$PORT" >"$WORK/logs/server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do
  curl -fs "$BASE/_soundcheck/health" 2>/dev/null | grep -q '"status":"ready"}' && break; sleep 0.1
done
curl -fs -o /dev/null "$BASE/_soundcheck/health" || { echo "the server did not start"; cat "$WORK/logs/server.log"; exit 1; }

# --- the documents as served (the legacy one once the server serves it). TOOLING_DOCS=DIR takes
# them from a directory instead, to try a change to the documents before the server has it.
for doc in musique musique-legacy musicark control; do
  if [ -n "${TOOLING_DOCS:-}" ]; then
    [ -f "$TOOLING_DOCS/$doc.json" ] && cp "$TOOLING_DOCS/$doc.json" "$WORK/docs/"
    continue
  fi
  code=$(curl -s -o "$WORK/docs/$doc.json" -w '%{http_code}' "$BASE/openapi/$doc.json")
  if [ "$code" != 200 ]; then
    rm -f "$WORK/docs/$doc.json"
    [ "$doc" = musique-legacy ] || { echo "GET /openapi/$doc.json answered $code"; exit 1; }
    echo "(the server serves no /openapi/$doc.json)"
  fi
done
DOCS=$(cd "$WORK/docs" && ls *.json | sed 's/\.json$//')

fail=0
py_gen=0 fetch_gen=0 hey_gen=0
# --- 1. generate
step "generate the clients of: $(echo $DOCS)"
for doc in $DOCS; do
  id=$(echo "$doc" | tr '-' '_')
  out=0
  timeout 120 "$CACHE/venv/bin/openapi-python-client" generate --path "$WORK/docs/$doc.json" \
    --meta none --output-path "$WORK/py/sc_$id" --config "$HERE/python-client.yaml" --overwrite \
    >"$WORK/logs/py-gen-$doc.txt" 2>&1 || out=$?
  n=$(grep -c '^WARNING\|^ERROR' "$WORK/logs/py-gen-$doc.txt" || true)
  if [ "$out" != 0 ] || [ "$n" != 0 ]; then
    echo "FAIL [openapi-python-client] generating $doc: exit $out, $n warnings:"
    grep -A1 '^WARNING\|^ERROR' "$WORK/logs/py-gen-$doc.txt" | grep -v '^--$' | sed 's/^/    /' | head -20
    py_gen=$((py_gen + (n > 0 ? n : 1)))
  fi
  out=0
  timeout 120 "$NBIN/openapi-typescript" "$WORK/docs/$doc.json" -o "$WORK/ts_$id/schema.d.ts" \
    >"$WORK/logs/ts-gen-$doc.txt" 2>&1 || out=$?
  if [ "$out" != 0 ]; then
    echo "FAIL [openapi-typescript] generating $doc: exit $out"; sed 's/^/    /' "$WORK/logs/ts-gen-$doc.txt" | tail -5
    fetch_gen=$((fetch_gen + 1))
  fi
  out=0
  timeout 120 "$NBIN/openapi-ts" -i "$WORK/docs/$doc.json" -o "$WORK/hey_$id" -c @hey-api/client-fetch \
    >"$WORK/logs/hey-gen-$doc.txt" 2>&1 || out=$?
  if [ "$out" != 0 ] || grep -qi 'error' "$WORK/logs/hey-gen-$doc.txt"; then
    echo "FAIL [@hey-api/openapi-ts] generating $doc: exit $out"; sed 's/^/    /' "$WORK/logs/hey-gen-$doc.txt" | tail -5
    hey_gen=$((hey_gen + 1))
  fi
done

# --- 2. the scenario through each client, straight to the server
step "compile the TypeScript scenarios (tsc)"
"$PY" "$HERE/gen_ts.py" fetch "$WORK/docs" "$WORK/fetch.ts"
"$PY" "$HERE/gen_ts.py" hey "$WORK/docs" "$WORK/hey.ts"
cp "$HERE/tsconfig.json" "$WORK/"
(cd "$WORK" && timeout 180 "$NBIN/tsc" -p tsconfig.json >"$WORK/logs/tsc.txt" 2>&1) || true
fetch_tsc=$(grep -c '^\(fetch\.ts\|ts_\).*error TS' "$WORK/logs/tsc.txt" || true)
hey_tsc=$(grep -c '^\(hey\.ts\|hey_\).*error TS' "$WORK/logs/tsc.txt" || true)
grep 'error TS' "$WORK/logs/tsc.txt" | sed 's/^/FAIL [tsc] /' | head -40 || true
[ -f "$WORK/out/fetch.js" ] && [ -f "$WORK/out/hey.js" ] || { echo "tsc emitted nothing"; cat "$WORK/logs/tsc.txt"; exit 1; }

BASES=$("$PY" -c '
import json, sys
sys.path.insert(0, sys.argv[1])
import common
print(json.dumps({d: sys.argv[3] + common.server_path(doc) for d, doc in common.load_docs(sys.argv[2]).items()}))
' "$HERE" "$WORK/docs" "$BASE")

ops() { sed -n 's/^SUMMARY .*failing_operations=\([0-9]*\).*/\1/p' "$1" | tail -1; }
step "scenario through openapi-python-client"
timeout 120 "$PY" "$HERE/run_python.py" "$WORK/docs" "$WORK/py" "$BASE" --root "$ROOT" \
  >"$WORK/logs/run-py.txt" 2>&1 || fail=1
cat "$WORK/logs/run-py.txt"
step "scenario through openapi-fetch"
(cd "$WORK" && timeout 120 node out/fetch.js "$BASES" "$ROOT") >"$WORK/logs/run-fetch.txt" 2>&1 || fail=1
cat "$WORK/logs/run-fetch.txt"
step "scenario through @hey-api/openapi-ts"
(cd "$WORK" && timeout 120 node out/hey.js "$BASES" "$ROOT") >"$WORK/logs/run-hey.txt" 2>&1 || fail=1
cat "$WORK/logs/run-hey.txt"

# --- 3. Prism in front of the server, one proxy per document at that document's own server
step "scenario through Prism proxies (--errors)"
PRISM_ARGS=() REPORT_ARGS=()
for doc in $DOCS; do
  p=$(free_port)
  upstream=$("$PY" -c 'import json,sys; sys.path.insert(0, sys.argv[1]); import common; print(sys.argv[3] + common.server_path(json.load(open(sys.argv[2]))))' \
    "$HERE" "$WORK/docs/$doc.json" "$BASE")
  "$NBIN/prism" proxy "$WORK/docs/$doc.json" "$upstream" --errors -h 127.0.0.1 -p "$p" \
    >"$WORK/logs/prism-$doc.log" 2>&1 &
  PIDS+=($!)
  PRISM_ARGS+=(--prism "$doc=http://127.0.0.1:$p")
  REPORT_ARGS+=("$doc=$WORK/logs/prism-$doc.log")
done
for doc in $DOCS; do
  for _ in $(seq 600); do grep -q 'Prism is listening' "$WORK/logs/prism-$doc.log" && break; sleep 0.1; done
  grep -q 'Prism is listening' "$WORK/logs/prism-$doc.log" || { echo "Prism did not start for $doc"; cat "$WORK/logs/prism-$doc.log"; exit 1; }
done
# The client's own findings are reported above; here only what Prism says counts.
timeout 180 "$PY" "$HERE/run_python.py" "$WORK/docs" "$WORK/py" "$BASE" --root "$ROOT" --label "python via prism" \
  "${PRISM_ARGS[@]}" >"$WORK/logs/run-prism.txt" 2>&1 || true
prism_status=0
"$PY" "$HERE/prism_report.py" "${REPORT_ARGS[@]}" >"$WORK/logs/prism-report.txt" || prism_status=1
cat "$WORK/logs/prism-report.txt"
if [ $prism_status != 0 ] || ! grep -q '^SUMMARY' "$WORK/logs/prism-report.txt"; then fail=1; fi

# --- 4. `--envelope wrapped`: its served documents must describe the wrapped bodies. The Python
# client is the one that reads every field, so the scenario runs through it once more.
step "scenario through openapi-python-client, server with --envelope wrapped"
WPORT=$(free_port); WBASE="http://127.0.0.1:$WPORT"
mkdir -p "$WORK/wrapped/docs" "$WORK/wrapped/py"
SOUNDCHECK_HASH_COST=fast "$BIN" --db "$WORK/wrapped.db" --addr "127.0.0.1:$WPORT" --envelope wrapped \
  >"$WORK/logs/server-wrapped.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do
  curl -fs "$WBASE/_soundcheck/health" 2>/dev/null | grep -q '"status":"ready"}' && break; sleep 0.1
done
wrapped_gen=0
for doc in $DOCS; do
  id=$(echo "$doc" | tr '-' '_')
  if [ -n "${TOOLING_DOCS:-}" ]; then cp "$TOOLING_DOCS/wrapped/$doc.json" "$WORK/wrapped/docs/" || fail=1;
  else curl -fs -o "$WORK/wrapped/docs/$doc.json" "$WBASE/openapi/$doc.json" || { echo "wrapped: no /openapi/$doc.json"; fail=1; }; fi
  timeout 120 "$CACHE/venv/bin/openapi-python-client" generate --path "$WORK/wrapped/docs/$doc.json" \
    --meta none --output-path "$WORK/wrapped/py/sc_$id" --config "$HERE/python-client.yaml" --overwrite \
    >"$WORK/logs/py-gen-wrapped-$doc.txt" 2>&1 || wrapped_gen=$((wrapped_gen + 1))
done
timeout 120 "$PY" "$HERE/run_python.py" "$WORK/wrapped/docs" "$WORK/wrapped/py" "$WBASE" --root "$ROOT" \
  --label "python, wrapped" >"$WORK/logs/run-wrapped.txt" 2>&1 || fail=1
cat "$WORK/logs/run-wrapped.txt"

# --- the counts, one line per tool
echo "== tooling: counts (generator warnings / tsc errors / failing operations / violations)"
printf '%-24s generate=%s failing_operations=%s\n' openapi-python-client "$py_gen" "$(ops "$WORK/logs/run-py.txt")"
printf '%-24s generate=%s tsc=%s failing_operations=%s\n' openapi-fetch "$fetch_gen" "$fetch_tsc" "$(ops "$WORK/logs/run-fetch.txt")"
printf '%-24s generate=%s tsc=%s failing_operations=%s\n' @hey-api/openapi-ts "$hey_gen" "$hey_tsc" "$(ops "$WORK/logs/run-hey.txt")"
printf '%-24s generate=%s failing_operations=%s\n' "python (wrapped)" "$wrapped_gen" "$(ops "$WORK/logs/run-wrapped.txt")"
printf '%-24s %s\n' prism "$(sed -n 's/^SUMMARY \[prism\] //p' "$WORK/logs/prism-report.txt")"
for f in run-py run-fetch run-hey run-wrapped; do grep -q '^SUMMARY' "$WORK/logs/$f.txt" || { echo "$f did not finish"; fail=1; }; done
total=$((wrapped_gen + py_gen + fetch_gen + hey_gen + fetch_tsc + hey_tsc))
if [ $fail != 0 ] || [ $total != 0 ]; then
  echo "== tooling check FAILED (logs in $WORK/logs); server log tail:"; tail -5 "$WORK/logs/server.log"
  exit 1
fi
echo "== tooling check passed"
