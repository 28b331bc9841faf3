#!/usr/bin/env bash
# The README's second command, and exactly what .ci/run calls: prepares the machine (Docker
# engine, base image), builds, and runs every test. Arguments go to `dotnet test`, e.g.
# `eng/test.sh --filter Category=Unit`.
set -euo pipefail
cd "$(dirname "$0")/.."

# The build needs neither the engine nor the base image: it runs beside eng/setup.sh, as in eng/run.sh (on a fresh
# machine, CI's case, the engine's install and debootstrap wait on the network, the build on the CPU).
mkdir -p TestResults
build_log=TestResults/test-build.log
echo "[test] building the solution beside the machine's setup (log: $build_log)"
build_started=$SECONDS
dotnet build IshChat.sln -nologo -v quiet -clp:ErrorsOnly >"$build_log" 2>&1 &
build_pid=$!
trap 'kill "$build_pid" 2>/dev/null || true' EXIT
bash eng/setup.sh
if ! wait "$build_pid"; then
  cat "$build_log" >&2
  echo "[test] dotnet build failed" >&2
  exit 1
fi
trap - EXIT
echo "[test] dotnet build: $(( SECONDS - build_started )) s (beside the setup)"
# Testcontainers' resource reaper (Ryuk) is an image pulled from a registry, and none is
# reachable here: fixtures dispose their containers and networks themselves.
export TESTCONTAINERS_RYUK_DISABLED=true

echo "[test] running the tests (cluster images are built on first use; progress shows as diagnostic lines)"
# A hung test dumps and fails after 20 minutes rather than eating CI's 90.
# The output is also kept in TestResults/ so that a failure can be repeated at the very end:
# CI shows only the tail of a long log.
log=TestResults/test-output.log
status=0
trx=TestResults/results.trx
rm -f "$trx"
dotnet test IshChat.sln --no-build -nologo \
  --blame-hang-timeout 20m --blame-hang-dump-type none \
  --logger "console;verbosity=normal" --logger "trx;LogFileName=$PWD/$trx" "$@" 2>&1 | tee "$log" || status=$?

# The last line is the plain summary CI reads to tell a run that executed tests from one that executed
# none, counted from the TRX report rather than the console's wording.
summary() {
  local counters=""
  [ -f "$trx" ] && counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n1)
  count() { local v; v=$(printf '%s' "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"); echo "${v:-0}"; }
  echo "$(count passed) passed, $(( $(count failed) + $(count error) + $(count timeout) + $(count aborted) )) failed, $(( $(count total) - $(count executed) )) skipped"
}

if [ "$status" -ne 0 ]; then
  echo
  echo "[test] FAILED (exit $status). The failing tests, their messages and first stack lines:"
  # Each block starts at the console logger's "  Failed <name>" line and ends at the next result.
  awk '/^  Failed [A-Za-z]/ { inblock = 1; lines = 0 }
       /^  (Passed|Skipped) [A-Za-z]/ || /^\[(xUnit|testcontainers)/ { inblock = 0 }
       inblock && lines < 40 { print; lines++ }' "$log"
  grep -E "^(Total tests|     (Passed|Failed)|Test Run)" "$log" | tail -5 || true
  summary
  exit "$status"
fi
summary
