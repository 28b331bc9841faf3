#!/usr/bin/env bash
# The HA path alone, measured with a client nobody here wrote: pgbench against the cluster a running AppHost
# started, as the app role, -M prepared. Paths: the leader at its container address; HAProxy's read-write port
# and PgBouncer at their container addresses (a client on the cluster's network: no Docker proxy); PgBouncer on
# the documented host port (Aspire's proxy → Docker's userland proxy → PgBouncer → HAProxy → leader).
# Workloads: TPC-B, select-only and SELECT 1. Prints one table; ratios are to the leader's container address.
#   eng/run.sh --headless &                 # wait for "IshChat cluster ready"
#   bench/path.sh [--clients 16] [--seconds 20] [--scale 10] [--port 6432] [--network NAME]
# The pgbench tables are created in the ishchat database (public schema) by the superuser and dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { printf 'bench/path.sh: error: %s\n' "$*" >&2; exit 2; }
clients=16 seconds=20 scale=10 port=6432 network=""
while (($#)); do
  case $1 in
    --clients) clients=${2:?}; shift 2 ;;
    --seconds) seconds=${2:?}; shift 2 ;;
    --scale) scale=${2:?}; shift 2 ;;
    --port) port=${2:?}; shift 2 ;;
    --network) network=${2:?}; shift 2 ;;
    *) die "unknown argument '$1' (--clients N --seconds N --scale N --port PGBOUNCER_HOST_PORT --network DOCKER_NETWORK)" ;;
  esac
done
for n in "$clients" "$seconds" "$scale" "$port"; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "'$n' is not a positive whole number"; done

secret() { dotnet user-secrets list --project IshChat.AppHost | sed -n "s/^Parameters:$1 = //p"; }
app_password=$(secret pg-app-password)
superuser_password=$(secret pg-superuser-password)
[[ -n $app_password && -n $superuser_password ]] || die "no pg-app-password / pg-superuser-password in the AppHost's user secrets: has eng/run.sh run?"

# Several AppHosts may share the engine: ours is the network whose PgBouncer takes our app password.
container_on() { docker network inspect -f '{{range .Containers}}{{.Name}}{{"\n"}}{{end}}' "$1" | grep -E "^$2(-[a-z0-9]+)?$" | head -1; }
candidates=()
if [[ -n $network ]]; then candidates=("$network"); else mapfile -t candidates < <(docker network ls --format '{{.Name}}'); fi
found=""
for net in "${candidates[@]}"; do
  bouncer=$(container_on "$net" pgbouncer-0 || true)
  [[ -n $bouncer ]] || continue
  image=$(docker inspect -f '{{.Config.Image}}' "$(container_on "$net" pg-0)")
  if PGPASSWORD=$app_password docker run --rm --network "$net" -e PGPASSWORD --entrypoint psql "$image" \
       -h pgbouncer-0 -p 6432 -U ishchat_app -d ishchat -Atc 'SELECT 1' >/dev/null 2>&1; then
    found=$net; break
  fi
done
[[ -n $found ]] || die "no running AppHost's cluster accepts this checkout's app password (start eng/run.sh, or pass --network)"
network=$found
pg0=$(container_on "$network" pg-0)
leader=$(docker exec "$pg0" curl -fsS --cacert /etc/ishchat/tls/ca.crt https://127.0.0.1:8008/cluster | python3 -c 'import json,sys; print(next(m["name"] for m in json.load(sys.stdin)["members"] if m["role"] == "leader"))')
echo "[path] cluster network $network, leader $leader, image $image; $clients clients, ${seconds} s per run, scale $scale; load: $(cut -d' ' -f1-3 /proc/loadavg)"

client() { # network, password, then pgbench/psql arguments after the program name
  local net=$1 password=$2 program=$3; shift 3
  PGPASSWORD=$password docker run --rm --network "$net" -e PGPASSWORD --entrypoint "$program" "$image" "$@"
}
cleanup() { client "$network" "$superuser_password" psql -h "$leader" -U postgres -d ishchat -qc \
  'DROP TABLE IF EXISTS pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history' >/dev/null 2>&1 || true; }
trap cleanup EXIT

echo "[path] pgbench -i -s $scale on the leader (superuser), granted to ishchat_app"
client "$network" "$superuser_password" pgbench -i -q -s "$scale" -h "$leader" -U postgres ishchat >/dev/null 2>&1
client "$network" "$superuser_password" psql -h "$leader" -U postgres -d ishchat -qc \
  'GRANT SELECT, INSERT, UPDATE ON pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history TO ishchat_app'

# name | docker network for the client | host | port
paths=(
  "leader, container address|$network|$leader|5432"
  "HAProxy read-write, container address|$network|haproxy-0|5000"
  "PgBouncer, container address|$network|pgbouncer-0|6432"
  "PgBouncer, documented host port $port|host|127.0.0.1|$port"
)
workloads=("TPC-B|" "select-only|-S" "SELECT 1|-f /dev/stdin")
declare -A tps
for path in "${paths[@]}"; do
  IFS='|' read -r name net host hport <<<"$path"
  for workload in "${workloads[@]}"; do
    IFS='|' read -r wname wargs <<<"$workload"
    # shellcheck disable=SC2086 # wargs holds pgbench options.
    # A run whose clients abort (a failover mid-run, a proxy dropping connections) is reported, not averaged in.
    if out=$(echo 'SELECT 1;' | PGPASSWORD=$app_password docker run --rm -i --network "$net" -e PGPASSWORD --entrypoint pgbench "$image" \
      -n -M prepared -c "$clients" -j 2 -T "$seconds" $wargs -h "$host" -p "$hport" -U ishchat_app ishchat 2>&1); then
      tps[$name|$wname]=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -1)
    else
      tps[$name|$wname]=failed
      printf '%s\n' "$out" | grep -m1 'error' >&2 || true
    fi
    echo "[path] $name, $wname: ${tps[$name|$wname]} tps"
  done
done

echo
echo "| path | TPC-B tps | select-only tps | SELECT 1 tps |"
echo "|---|---|---|---|"
base="${paths[0]%%|*}"
for path in "${paths[@]}"; do
  name=${path%%|*}
  row="| $name |"
  for workload in "${workloads[@]}"; do
    wname=${workload%%|*}
    row+=" $(python3 -c "
t, b = '${tps[$name|$wname]}', '${tps[$base|$wname]}'
print(t if t == 'failed' else f'{float(t):.0f}' + ('' if b == 'failed' else f' ({float(t)/float(b):.2f}×)'))") |"
  done
  echo "$row"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
