#!/usr/bin/env bash
# Proves the container image as far as this machine allows, with no Docker engine and no
# registry: builds the Dockerfile's static binary with the host's cargo, builds the Dockerfile's
# final stage (FROM scratch) with podman, runs it and talks to it from outside.
#
#   bash scripts/image-check.sh
#
# Installs podman, buildah and runc with apt-get when they are missing (needs root). Takes
# about as long as a release build of the crate (target/ is reused) plus ~30 s.
#
# Exit status:
#   0  everything below was proven
#   1  a real failure: the binary, the image or the server in it is wrong
#   3  the sandbox refused something (installing podman, building or running any container);
#      the summary says what was and was not proven
#
# What makes a refusal: a probe image holding only the binary is built before the real image,
# and run (with the same podman options) before the real container. If a probe fails, the
# sandbox refuses containers; if the probe works and the real image does not, the image is
# wrong.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly REFUSED=3
readonly MAX_IMAGE_BYTES=30000000
readonly UID_GID=65532
target="$(uname -m)-unknown-linux-gnu"
binary="${CARGO_TARGET_DIR:-target}/$target/release/soundcheck"
run_id="soundcheck-check-$$"
image="localhost/$run_id"
probe_image="localhost/$run_id-probe"
container="$run_id"
volume="$run_id-data"
work="$(mktemp -d)"
# As TOOLING.md says this sandbox needs: runc, raised ulimits, the host's network.
podman=(podman --runtime runc)
run_opts=(--ulimit nofile=20000:20000 --ulimit nproc=32768:32768 --network host)

checks=(binary tools buildable image runnable start health healthcheck auth nonroot stop)
declare -A what=(
  [binary]="static release binary builds (the Dockerfile's RUSTFLAGS and target) and runs on the host"
  [tools]="podman, buildah and runc are installed"
  [buildable]="this sandbox builds an image FROM scratch (probe: the binary alone)"
  [image]="the Dockerfile's final stage builds: under 30 MB, user, files, healthcheck, entrypoint"
  [runnable]="this sandbox runs a container (probe: the binary's --version, same podman options)"
  [start]="the image's container starts (podman run --detach)"
  [health]="GET /_soundcheck/health answers 200 from outside the container"
  [healthcheck]="the HEALTHCHECK command (/soundcheck healthcheck) exits 0 inside the container"
  [auth]="Musique API from outside: 401 without a key, 200 with the fixture key"
  [nonroot]="the server runs as uid/gid $UID_GID and wrote its database to the /data volume"
  [stop]="SIGTERM (podman stop) ends the server gracefully with exit code 0"
)
declare -A status=()
finished=false
current=""
failed_line=""

say() { printf '== image-check: %s\n' "$*"; }

step() { current=$1; }

pass() {
  status[$1]=PASS
  say "PASS $1${2:+: $2}"
}

fail() {
  status[$1]=FAIL
  say "FAIL $1: $2"
  finish 1
}

refuse() {
  status[$1]=REFUSED
  say "REFUSED BY THE SANDBOX at $1: $2"
  finish "$REFUSED"
}

# A refusal that leaves the other checks possible.
refuse_and_go_on() {
  status[$1]=REFUSED
  say "REFUSED BY THE SANDBOX at $1: $2 (going on with the other checks)"
}

summary() {
  say "summary"
  local check
  for check in "${checks[@]}"; do
    printf '   %-9s %-12s %s\n' "${status[$check]:-NOT RUN}" "$check" "${what[$check]}"
  done
}

finish() {
  finished=true
  summary
  case $1 in
    0) say "RESULT: image proven" ;;
    "$REFUSED") say "RESULT: the sandbox refused something; checks not marked PASS are unproven (exit $REFUSED)" ;;
    *) say "RESULT: FAILED (exit $1)" ;;
  esac
  exit "$1"
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  local code=$?
  if command -v podman >/dev/null 2>&1; then
    "${podman[@]}" rm --force --volumes --time 0 "$container" "$container-files" >/dev/null 2>&1 || true
    "${podman[@]}" rmi --force "$image" "$probe_image" >/dev/null 2>&1 || true
    "${podman[@]}" volume rm --force "$volume" "$volume-probe" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  if [[ $finished == false ]]; then
    # An unexpected error (set -e): a failure of the current check, whatever its status was.
    [[ -n $current ]] && status[$current]=FAIL
    summary
    say "RESULT: FAILED (${current:-setup}: line ${failed_line:-?} stopped with status $code)"
    exit 1
  fi
}
trap cleanup EXIT
trap 'failed_line=$LINENO' ERR

# Prints the last lines of a log, indented, for the reader of CI output.
show() { tail -n "${2:-20}" "$1" | sed 's/^/   | /'; }

# --- binary ------------------------------------------------------------------------------------
step binary
say "building the static binary: cargo build --release --locked --target $target --bin soundcheck"
if ! RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --target "$target" \
  --bin soundcheck; then
  fail binary "cargo build failed"
fi
# A dynamic binary would not start in an image with no libc: refuse it here, not in podman.
if command -v readelf >/dev/null 2>&1; then
  headers="$(readelf --program-headers --wide "$binary")"
  if [[ $headers == *'program interpreter'* ]]; then
    fail binary "$binary asks for a dynamic loader; it is not static"
  fi
elif ldd "$binary" >/dev/null 2>&1; then
  fail binary "$binary has shared library dependencies (ldd); it is not static"
fi
version="$("$binary" --version)" || fail binary "$binary --version failed on the host"
pass binary "$version, $(stat -c %s "$binary") bytes, no dynamic loader"

# --- tools -------------------------------------------------------------------------------------
step tools
missing=()
for tool in podman buildah runc curl; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
  if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    refuse tools "missing ${missing[*]}, and no root apt-get to install them with"
  fi
  say "installing podman buildah runc curl with apt-get (missing: ${missing[*]})"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    podman buildah runc curl; } >"$work/apt.log" 2>&1; then
    show "$work/apt.log"
    refuse tools "apt-get could not install podman buildah runc curl"
  fi
fi
pass tools "$(podman --version), $(buildah --version | cut -d' ' -f1-3), $(runc --version | head -n 1)"

# --- buildable: may this sandbox build images at all? -----------------------------------------
step buildable
mkdir -p "$work/probe"
cp "$binary" "$work/probe/soundcheck"
printf 'FROM scratch\nCOPY soundcheck /soundcheck\nENTRYPOINT ["/soundcheck"]\n' \
  >"$work/probe/Containerfile"
if ! "${podman[@]}" build --quiet --layers=false --format docker --tag "$probe_image" \
  --file "$work/probe/Containerfile" "$work/probe" >"$work/probe.log" 2>&1; then
  show "$work/probe.log"
  refuse buildable "podman could not build a one-file image FROM scratch"
fi
pass buildable "$probe_image"

# --- image: the Dockerfile's final stage, its builder's /out replaced by a local one ------------
step image
stage="$(awk '/^FROM /{stage = ""} {stage = stage $0 "\n"} END {printf "%s", stage}' Dockerfile)"
[[ $stage == "FROM scratch"* ]] ||
  fail image "the Dockerfile's final stage does not start with FROM scratch; this script builds only that"
printf '%s' "${stage// --from=builder/}" >"$work/Containerfile"
if grep -q -- '--from=' "$work/Containerfile"; then
  fail image "the final stage copies from a stage other than builder"
fi
mkdir -p "$work/context/out/data" "$work/context/out/tmp"
cp "$binary" "$work/context/out/soundcheck"
# docker format, because the OCI image config has no HEALTHCHECK.
if ! "${podman[@]}" build --layers=false --format docker --tag "$image" --file "$work/Containerfile" \
  "$work/context" >"$work/build.log" 2>&1; then
  show "$work/build.log"
  fail image "podman build of the Dockerfile's final stage failed"
fi
size="$("${podman[@]}" image inspect --format '{{.Size}}' "$image")"
user="$("${podman[@]}" image inspect --format '{{.Config.User}}' "$image")"
healthcheck="$("${podman[@]}" image inspect --format '{{json .Config.Healthcheck.Test}}' "$image")"
entrypoint="$("${podman[@]}" image inspect --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' "$image")"
stop_signal="$("${podman[@]}" image inspect --format '{{.Config.StopSignal}}' "$image")"
say "image $image: size $size bytes ($((size / 1000000)) MB), user $user"
say "image healthcheck $healthcheck, entrypoint and cmd $entrypoint, stop signal $stop_signal"
((size < MAX_IMAGE_BYTES)) || fail image "the image is $size bytes, over $MAX_IMAGE_BYTES"
[[ $user == "$UID_GID:$UID_GID" ]] || fail image "the image's user is '$user', not $UID_GID:$UID_GID"
[[ $healthcheck == *'/soundcheck'*'healthcheck'* ]] ||
  fail image "the image has no HEALTHCHECK running /soundcheck healthcheck ($healthcheck)"
[[ $entrypoint == '["/soundcheck"] ["serve"]' ]] ||
  fail image "entrypoint and cmd are $entrypoint, not [\"/soundcheck\"] [\"serve\"]"
[[ $stop_signal == SIGTERM || -z $stop_signal ]] ||
  fail image "the stop signal is $stop_signal; the server shuts down gracefully on SIGTERM"
# What the image holds, as a container created from it exports it (works rootless too).
"${podman[@]}" create --name "$container-files" "$image" >/dev/null
"${podman[@]}" export "$container-files" | tar -tvf - >"$work/files.txt"
"${podman[@]}" rm --volumes "$container-files" >/dev/null 2>&1
files="$(awk '{print $1, $2, $6}' "$work/files.txt" | sort -k 3)"
say "image files: $(paste -sd ';' <<<"$files")"
for expected in "-rwxr-xr-x 0/0 soundcheck" "d\S* $UID_GID/$UID_GID data/" "d\S* $UID_GID/$UID_GID tmp/"; do
  grep -qE "^$expected\$" <<<"$files" || fail image "the image has no '$expected'"
done
pass image "$size bytes ($((size / 1000000)) MB), user $user, /data and /tmp owned by $UID_GID"

# --- runnable: may this sandbox run containers at all? -----------------------------------------
step runnable
if ! "${podman[@]}" run --rm "${run_opts[@]}" --user "$UID_GID:$UID_GID" \
  --volume "$volume-probe:/data" "$probe_image" --version >"$work/probe.log" 2>&1; then
  show "$work/probe.log"
  refuse runnable "podman could not run a container (${podman[*]} run ${run_opts[*]})"
fi
pass runnable "$(<"$work/probe.log") printed from inside a container"

# --- start -------------------------------------------------------------------------------------
step start
# A free port on the host, which the container shares (--network host).
port=""
for _ in {1..50}; do
  candidate=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
    port=$candidate
    break
  fi
done
[[ -n $port ]] || fail start "found no free port"
base="http://127.0.0.1:$port"
# With --network host the control plane would be open to the host's network: give it a token,
# as the README asks of CI on shared hosts. Passed through the environment, not argv.
SOUNDCHECK_ADMIN_TOKEN="check-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export SOUNDCHECK_ADMIN_TOKEN
# The image's own ENV and HEALTHCHECK stand; only the port changes. No healthcheck timer: it
# needs systemd, and the check below runs the command itself.
if ! "${podman[@]}" run --detach --name "$container" "${run_opts[@]}" \
  --env "SOUNDCHECK_ADDR=0.0.0.0:$port" --env SOUNDCHECK_ADMIN_TOKEN \
  --health-interval disable --volume "$volume:/data" "$image" >"$work/run.log" 2>&1; then
  show "$work/run.log"
  fail start "podman run of the image failed (the probe's container ran)"
fi
pass start "container $container, SOUNDCHECK_ADDR=0.0.0.0:$port, volume $volume at /data"

# --- health from outside -----------------------------------------------------------------------
step health
# Polls until the server answers; the deadline covers seeding a new database on a slow machine.
deadline=$((SECONDS + 60))
until curl --silent --fail --max-time 2 --output "$work/health.json" "$base/_soundcheck/health"; do
  if [[ "$("${podman[@]}" inspect --format '{{.State.Running}}' "$container")" != true ]]; then
    "${podman[@]}" logs "$container" >"$work/server.log" 2>&1 || true
    show "$work/server.log" 40
    fail health "the container exited before answering health"
  fi
  if ((SECONDS > deadline)); then
    "${podman[@]}" logs "$container" >"$work/server.log" 2>&1 || true
    show "$work/server.log" 40
    fail health "no 200 from $base/_soundcheck/health within 60 s"
  fi
  sleep 0.25
done
pass health "$base/_soundcheck/health -> 200 $(<"$work/health.json")"

# --- HEALTHCHECK inside the container ----------------------------------------------------------
step healthcheck
set +e
"${podman[@]}" exec "$container" /soundcheck healthcheck >"$work/exec.log" 2>&1
exec_status=$?
"${podman[@]}" healthcheck run "$container" >"$work/healthcheck.log" 2>&1
healthcheck_status=$?
set -e
# podman exec's own errors are 125 (podman) and 126 (runtime); anything else is the command's.
if ((exec_status == 125 || exec_status == 126)); then
  show "$work/exec.log"
  refuse_and_go_on healthcheck "podman exec could not enter the running container (status $exec_status)"
else
  if ((exec_status != 0)); then
    show "$work/exec.log"
    fail healthcheck "podman exec $container /soundcheck healthcheck exited $exec_status"
  fi
  if ((healthcheck_status != 0)); then
    show "$work/healthcheck.log"
    fail healthcheck "podman healthcheck run (the image's HEALTHCHECK) exited $healthcheck_status"
  fi
  health="$("${podman[@]}" inspect --format '{{.State.Health.Status}}' "$container")"
  [[ $health == healthy ]] ||
    fail healthcheck "podman healthcheck run passed but the container is '$health'"
  pass healthcheck "podman exec $container /soundcheck healthcheck -> exit 0; podman healthcheck run -> exit 0, container $health"
fi

# --- authenticated requests from outside -------------------------------------------------------
step auth
audio="$base/api/v1/integration/audio"
anonymous="$(curl --silent --max-time 5 --output /dev/null --write-out '%{http_code}' "$audio")"
[[ $anonymous == 401 ]] || fail auth "GET $audio without a key -> $anonymous, not 401"
keyed="$(curl --silent --max-time 5 --output "$work/audio.json" --write-out '%{http_code}' \
  --header 'X-API-Key: msk_prod_1234567890abcdef' "$audio")"
[[ $keyed == 200 ]] || fail auth "GET $audio with the fixture key -> $keyed, not 200: $(<"$work/audio.json")"
control="$(curl --silent --max-time 5 --output /dev/null --write-out '%{http_code}' \
  "$base/_soundcheck/tenants")"
[[ $control == 401 ]] ||
  fail auth "GET /_soundcheck/tenants without the admin token -> $control, not 401"
pass auth "GET /api/v1/integration/audio: no key -> 401, X-API-Key msk_prod_1234567890abcdef -> 200 $(head -c 120 "$work/audio.json")…; control plane without the admin token -> 401"

# --- non-root ----------------------------------------------------------------------------------
step nonroot
# podman top reads the process from the host; user and group as the container sees them
# (huser differs when podman runs rootless).
"${podman[@]}" top "$container" pid user group huser hgroup >"$work/top.txt"
read -r _ in_user in_group host_user host_group < <(tail -n 1 "$work/top.txt")
[[ $in_user == "$UID_GID" && $in_group == "$UID_GID" ]] ||
  fail nonroot "the server runs as user $in_user, group $in_group (podman top)"
mountpoint="$("${podman[@]}" volume inspect --format '{{.Mountpoint}}' "$volume")"
[[ -f $mountpoint/soundcheck.db ]] || fail nonroot "no soundcheck.db in the /data volume ($mountpoint)"
# Rootless, the host sees a mapped uid: ask from inside podman's user namespace.
if ((EUID == 0)); then
  owner="$(stat -c '%u:%g' "$mountpoint/soundcheck.db")"
else
  owner="$(podman unshare stat -c '%u:%g' "$mountpoint/soundcheck.db")"
fi
[[ $owner == "$UID_GID:$UID_GID" ]] || fail nonroot "soundcheck.db in the volume is owned by $owner"
pass nonroot "podman top: user $in_user group $in_group (on the host $host_user:$host_group); /data/soundcheck.db owned by $owner"

# --- graceful stop -----------------------------------------------------------------------------
step stop
# podman stop sends the image's STOPSIGNAL (SIGTERM) and kills after 30 s (exit 137).
started=$(date +%s%N)
# (podman without systemd logs an error about healthcheck timers here: harmless, kept quiet.)
"${podman[@]}" stop --time 30 "$container" >"$work/stop.log" 2>&1 || {
  show "$work/stop.log"
  fail stop "podman stop failed"
}
took_ms=$((($(date +%s%N) - started) / 1000000))
exit_code="$("${podman[@]}" inspect --format '{{.State.ExitCode}}' "$container")"
"${podman[@]}" logs "$container" >"$work/server.log" 2>&1
if [[ $exit_code != 0 ]]; then
  show "$work/server.log"
  fail stop "the server exited with $exit_code after the stop signal (137: it ignored it and was killed)"
fi
grep -q 'shutting down' "$work/server.log" ||
  fail stop "exit 0, but the log has no 'shutting down' line"
pass stop "exit code 0 ${took_ms} ms after SIGTERM; log: $(grep -m 1 'shutting down' "$work/server.log" | sed 's/^ *//')"

if [[ " ${status[*]} " == *" REFUSED "* ]]; then
  finish "$REFUSED"
fi
finish 0
