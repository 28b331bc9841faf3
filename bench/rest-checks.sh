#!/usr/bin/env bash
# What HAProxy's health checks cost the Patroni nodes now that Patroni's REST API is HTTPS (issue 10; docs/security.md):
# every HAProxy checks every node's /primary and /replica each second over TLS (check-ssl verify required), each a
# TLS handshake on Patroni's Python HTTPS server, on a 2-core machine. On the cluster a running AppHost started (idle:
# no API load), it reads each pg-N's and haproxy-N's CPU time from its cgroup over --seconds with the HAProxies
# running, then with every HAProxy paused (docker pause: no checks at all), alternately, --rounds times; prints the
# nodes' CPU (% of one core, per node) in each phase, and the difference: what the checks cost. The HAProxies are
# unpaused on exit, whatever happens; while they are paused the cluster has no database entry (seconds).
#   eng/run.sh --headless &                 # wait for "IshChat cluster ready"
#   bench/rest-checks.sh [--seconds 30] [--rounds 2] [--network NAME]
set -euo pipefail
cd "$(dirname "$0")/.."

die() { printf 'bench/rest-checks.sh: error: %s\n' "$*" >&2; exit 2; }
seconds=30 rounds=2 network=""
while (($#)); do
  case $1 in
    --seconds) seconds=${2:?}; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --network) network=${2:?}; shift 2 ;;
    *) die "unknown argument '$1' (--seconds N --rounds N --network DOCKER_NETWORK)" ;;
  esac
done
for n in "$seconds" "$rounds"; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "'$n' is not a positive whole number"; done

# The AppHost's network: the one whose containers include pg-0-… and haproxy-0-… (--network when several AppHosts run).
members_of() { docker network inspect -f '{{range .Containers}}{{.Name}}{{"\n"}}{{end}}' "$1"; }
if [[ -z $network ]]; then
  found=()
  for net in $(docker network ls --format '{{.Name}}'); do
    members_of "$net" | grep -qE '^pg-0(-[a-z0-9]+)?$' && members_of "$net" | grep -qE '^haproxy-0(-[a-z0-9]+)?$' && found+=("$net")
  done
  ((${#found[@]} == 1)) || die "${#found[@]} networks hold an AppHost's cluster (${found[*]:-none}): start eng/run.sh, or pass --network"
  network=${found[0]}
fi
mapfile -t nodes < <(members_of "$network" | grep -E '^pg-[0-9]+(-[a-z0-9]+)?$' | sort)
mapfile -t routers < <(members_of "$network" | grep -E '^haproxy-[0-9]+(-[a-z0-9]+)?$' | sort)
((${#nodes[@]} && ${#routers[@]})) || die "no pg-N or haproxy-N on $network"

# CPU time a container has used, in µs, from its cgroup (v1 cpuacct, or v2 cpu.stat; either Docker cgroup driver).
cpu_us() {
  local id; id=$(docker inspect -f '{{.Id}}' "$1")
  for f in "/sys/fs/cgroup/cpuacct/docker/$id/cpuacct.usage" "/sys/fs/cgroup/cpu,cpuacct/docker/$id/cpuacct.usage" \
           "/sys/fs/cgroup/cpuacct/system.slice/docker-$id.scope/cpuacct.usage"; do
    [[ -r $f ]] && { echo $(($(cat "$f") / 1000)); return; }
  done
  for f in "/sys/fs/cgroup/system.slice/docker-$id.scope/cpu.stat" "/sys/fs/cgroup/docker/$id/cpu.stat"; do
    [[ -r $f ]] && { awk '$1 == "usage_usec" { print $2 }' "$f"; return; }
  done
  die "no cgroup CPU accounting found for $1"
}

# measure <phase>: each container's CPU over $seconds, as % of one core; one line per container, then the nodes' mean.
measure() {
  local phase=$1 c; declare -A before
  for c in "${nodes[@]}" "${routers[@]}"; do before[$c]=$(cpu_us "$c"); done
  sleep "$seconds"
  for c in "${nodes[@]}" "${routers[@]}"; do
    awk -v p="$phase" -v c="$c" -v d="$(($(cpu_us "$c") - ${before[$c]}))" -v s="$seconds" 'BEGIN { printf "%s %s %.2f\n", p, c, d / (s * 10000) }'
  done
}

unpause() { for r in "${routers[@]}"; do docker unpause "$r" >/dev/null 2>&1 || true; done; }
trap unpause EXIT

logs=$(mktemp -d /tmp/ishchat-rest-checks.XXXXXX)
echo "[rest-checks] network $network: nodes ${nodes[*]}; routers ${routers[*]}; ${seconds} s per phase, $rounds rounds; load $(cut -d' ' -f1-3 /proc/loadavg); raw in $logs"
for round in $(seq 1 "$rounds"); do
  measure checks | tee -a "$logs/raw"
  for r in "${routers[@]}"; do docker pause "$r" >/dev/null; done
  sleep 2 # the checks in flight finish
  measure paused | tee -a "$logs/raw"
  unpause
  sleep 2
done

echo
awk -v n="${#nodes[@]}" '
  $2 ~ /^pg-/ { node[$1] += $3; nodes[$1]++ }
  $2 ~ /^haproxy-/ && $1 == "checks" { router += $3; routers++ }
  END {
    with = node["checks"] / nodes["checks"]; without = node["paused"] / nodes["paused"]
    printf "Patroni node CPU, %% of one core (mean per node over all rounds): HAProxy checking %.2f, HAProxy paused %.2f: the checks cost %.2f per node (%.2f for all %d nodes)\n", with, without, with - without, (with - without) * n, n
    printf "HAProxy CPU while checking: %.2f %% of one core per HAProxy\n", router / routers
  }' "$logs/raw" | tee "$logs/summary"
