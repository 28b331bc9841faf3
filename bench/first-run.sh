#!/usr/bin/env bash
# Times a first run: `eng/run.sh --headless` from its start to the AppHost's "IshChat cluster ready"
# line, then stops it with SIGTERM to its process group (the AppHost removes its containers).
#   bench/first-run.sh          warm: the images are present (or built once, then measured)
#   bench/first-run.sh --cold   cold: every image built from scratch into a throwaway namespace
#                               (ISHCHAT_IMAGE_NAMESPACE, ISHCHAT_IMAGE_NO_CACHE=1, apt cache mount emptied),
#                               whose images are removed afterwards; the everyday ishchat/* images are untouched.
# Host ports are left to Docker, so it runs beside another AppHost. Prints one line: "<mode> <seconds>".
# Figures and how to read them: docs/first-run.md.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=warm
if [ "${1:-}" = "--cold" ]; then
  mode=cold
  export ISHCHAT_IMAGE_NAMESPACE="ishchat-cold$$"
  export ISHCHAT_IMAGE_NO_CACHE=1
  # A fresh machine has no downloaded packages: empty the apt cache mounts of containers/packages.
  docker builder prune --force --filter type=exec.cachemount >/dev/null
fi
for port in PgBouncer HAProxyReadWrite HAProxyReadOnly HAProxyStats Redis Prometheus Alertmanager Grafana PatroniRestFirstNode EtcdClientFirstMember; do
  export "IshChat__HostPorts__$port="
done

log=$(mktemp /tmp/ishchat-first-run.XXXXXX.log)
started=$(date +%s)
export ISHCHAT_RUN_STARTED_AT=$started
setsid bash eng/run.sh --headless >"$log" 2>&1 &
run=$!
stop() {
  kill -TERM -- "-$run" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$run" 2>/dev/null || break; sleep 1; done
  if [ "$mode" = cold ]; then
    # The AppHost's orchestrator removes its containers a little after the AppHost exits.
    for _ in $(seq 1 60); do
      docker ps -a --format '{{.Image}}' | grep -q "^$ISHCHAT_IMAGE_NAMESPACE/" || break
      sleep 1
    done
    docker image ls --format '{{.Repository}}:{{.Tag}}' | grep "^$ISHCHAT_IMAGE_NAMESPACE/" | xargs -r docker image rm >/dev/null || true
  fi
}
trap stop EXIT

until grep -q "IshChat cluster ready after" "$log"; do
  if ! kill -0 "$run" 2>/dev/null; then
    tail -n 30 "$log" >&2
    echo "[first-run] eng/run.sh ended before the ready line (log: $log)" >&2
    exit 1
  fi
  sleep 1
done
elapsed=$(( $(date +%s) - started ))
grep -E "^\[(setup|run)\]|images ready|Built .* in|IshChat cluster ready" "$log" | sed -E 's/(streaming replicas\.).*/\1/' >&2 || true
echo "$mode $elapsed"
