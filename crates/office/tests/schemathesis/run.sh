#!/usr/bin/env bash
# A bounded schemathesis run against a real office, part of `./dev test`:
#
#   crates/office/tests/schemathesis/run.sh path/to/heatcrew-office
#
# Starts `heatcrew-office serve --demo --admin-totp-optional` (the demo admin signs in without a second factor) on a fresh database on a free loopback port, signs in a
# staff member (the demo admin) and a device (the demo technician, with a real Ed25519 proof:
# device_token.py), and runs schemathesis over the served /api/openapi.json: every phase
# (examples, coverage, fuzzing, stateful), each operation with the token its security names
# (schemathesis.toml). Fails on any 5xx (`not_a_server_error`) and on an operation that answers
# without the token it documents (`ignored_auth`). Bounded by SCHEMATHESIS_MAX_TIME seconds
# (default 120) for the main run plus 30 s for the operations that end sessions, which run last
# and alone: revoking the run's own tokens, moving its device or deactivating its users would turn
# the rest into 401s.
#
# Schemathesis comes from PyPI into a venv under ~/.cache (SCHEMATHESIS_VENV), installed once and
# reused while its version matches. Reports (JUnit, and the office's log) land in
# SCHEMATHESIS_REPORTS (default: a temp dir, printed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: run.sh path/to/heatcrew-office}
version=4.32.5
venv=${SCHEMATHESIS_VENV:-$HOME/.cache/heatcrew/schemathesis-$version}
max_time=${SCHEMATHESIS_MAX_TIME:-120}

log() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "version $version\$" \
  || ! "$venv/bin/python" -c 'import cryptography' 2>/dev/null; then
  log "installing schemathesis $version into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version" cryptography
fi

work=$(mktemp -d)
reports=${SCHEMATHESIS_REPORTS:-$work/reports}
mkdir -p "$reports"
"$bin" serve --db "$work/office.db" --listen 127.0.0.1:0 --demo --admin-totp-optional >"$work/office.out" 2>"$reports/office.log" &
pid=$!
cleanup() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ -n "${SCHEMATHESIS_REPORTS:-}" ] || log "reports kept in $reports"
}
trap cleanup EXIT
url=""
for _ in $(seq 1 300); do
  url=$(grep -o 'http://[0-9.:]*' "$work/office.out" 2>/dev/null | head -1 || true)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$reports/office.log" >&2; echo "the office did not start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "the office did not say where it listens" >&2; exit 1; }

HEATCREW_STAFF_TOKEN=$(curl -fsS -X POST "$url/api/v1/auth/staff-login" -H 'content-type: application/json' \
  -d '{"username":"admin","password":"heatcrew-demo"}' | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
HEATCREW_DEVICE_TOKEN=$("$venv/bin/python" "$here/device_token.py" "$url" zhangwei heatcrew-demo)
export HEATCREW_STAFF_TOKEN HEATCREW_DEVICE_TOKEN
# The attachment chunks' media type (hooks.py).
export SCHEMATHESIS_HOOKS="$here/hooks.py"

# Operations that end the run's own sessions or accounts (moving the run's device to another user
# ends its session: in the main run every device operation after it was only a 401).
ending='^/api/v1/(auth/revoke|devices/\{id\}/(revoke|move)|users/\{id\}/(deactivate|password))$'
# One worker: Python 3.11's parser is not thread-safe (hypothesis parses lambdas while drawing, and
# two workers crash it with "AST constructor recursion depth mismatch").
common=(--config-file "$here/schemathesis.toml" run "$url/api/openapi.json"
  --checks not_a_server_error,ignored_auth --workers 1 --seed 11 --no-color
  --suppress-health-check all --request-timeout 30)

log "schemathesis: every operation but the session-ending ones (at most ${max_time} s)"
"$venv/bin/schemathesis" "${common[@]}" --exclude-path-regex "$ending" --max-time "$max_time" \
  --report junit --report-junit-path "$reports/schemathesis.xml"
log "schemathesis: the session-ending operations (at most 30 s)"
"$venv/bin/schemathesis" "${common[@]}" --include-path-regex "$ending" --max-time 30 \
  --report junit --report-junit-path "$reports/schemathesis-ending.xml"
if grep -q "panicked" "$reports/office.log"; then
  grep -m5 -A3 "panicked" "$reports/office.log" >&2
  echo "the office panicked during the run" >&2
  exit 1
fi
log "schemathesis: no server errors"
