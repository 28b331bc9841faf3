#!/usr/bin/env bash
# Removes whatever an interrupted run left behind: containers started from IshChat images
# (the AppHost's and the tests') and the networks they used. Safe to run any time nothing is running.
set -euo pipefail

containers=$(docker ps -aq --filter label=io.ishchat.component)
if [ -n "$containers" ]; then
  echo "[down] removing $(echo "$containers" | wc -w) container(s)"
  docker rm -f $containers >/dev/null
fi
docker network prune --force --filter label=io.ishchat.network=true >/dev/null 2>&1 || true
docker network ls --format '{{.Name}}' | grep -E '^aspire-session-network' | xargs -r docker network rm >/dev/null 2>&1 || true
docker image prune --force --filter label=io.ishchat.component >/dev/null
echo "[down] clean"
