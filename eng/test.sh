#!/usr/bin/env bash
# The README's second command, and exactly what .ci/run calls: prepares the machine (Docker
# engine, base image), builds, and runs every test. Arguments go to `dotnet test`, e.g.
# `eng/test.sh --filter Category=Unit`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash eng/setup.sh
# Testcontainers' resource reaper (Ryuk) is an image pulled from a registry, and none is
# reachable here: fixtures dispose their containers and networks themselves.
export TESTCONTAINERS_RYUK_DISABLED=true

echo "[test] building the solution"
dotnet build IshChat.sln -nologo -v quiet -clp:ErrorsOnly

echo "[test] running the tests (cluster images are built on first use; progress shows as diagnostic lines)"
# A hung test dumps and fails after 20 minutes rather than eating CI's 90.
dotnet test IshChat.sln --no-build -nologo \
  --blame-hang-timeout 20m --blame-hang-dump-type none \
  --logger "console;verbosity=normal" "$@"
