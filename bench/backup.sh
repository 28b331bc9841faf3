#!/usr/bin/env bash
# Backup and point-in-time recovery, proven on real servers and timed (docs/backup.md).
#
# On a private docker network it starts the backup store (Azurite), one etcd member and two
# Patroni nodes (pg-0, pg-1) archiving WAL with pgBackRest, then:
#   1. loads rows (--rows, default 2,000,000 ≈ 300 MB) and takes a full backup ON THE REPLICA,
#      timed, and checks pgBackRest says it was a backup from the standby;
#   2. writes A, notes time T, writes B, then switches over to the other node and writes C on
#      the new timeline;
#   3. checks the archive holds the new timeline's history file and that `pgbackrest check`
#      passes on the new leader (it archives a fresh segment and waits for it);
#   4. restores to the end of the archive in a throwaway container: A, B and C present
#      (proves archiving followed the leader with no gap), timed;
#   5. makes a NEW Patroni cluster from the backup to time T (custom bootstrap): A present,
#      B absent; a second member then clones from its new leader and streams; timed;
#   6. a restore drill as the app host runs it (docs/backup.md#restore-drills): a restore point
#      on the leader, then `ishchat-restore-drill` in a throwaway container restores the newest
#      backup + WAL to it, checks consistency, the stop at the point and pg_amcheck; the
#      restored row counts must equal the leader's at the point; timed (RTO and in all).
# Secrets (store key, cipher passphrase, passwords, the CA for pgBackRest's TLS) are made
# at run time. Traffic stays on the network. Everything it starts (label
# io.ishchat.backupbench=1), the network and the store's volume are removed on exit unless --keep.
#
# Usage: bench/backup.sh [--no-build] [--keep] [--rows N]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tag="${ISHCHAT_BACKUP_BENCH_TAG:-backup-bench}"
net=ishchat-dur-backup
prefix=ishdur-
label=io.ishchat.backupbench=1
volume=ishdur-backup-store
build=1 keep=0 rows=2000000
while (($#)); do
  case $1 in
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    --rows) rows=${2:?--rows needs a number}; shift ;;
    *) echo "usage: $0 [--no-build] [--keep] [--rows N]" >&2; exit 64 ;;
  esac
  shift
done
[[ $rows =~ ^[0-9]+$ ]] || { echo "--rows must be a number" >&2; exit 64; }

say() { printf '\n=== %s\n' "$*"; }
fail() { printf '\nBACKUP BENCH FAILED: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

remove_all() {
  local ids
  ids="$(docker ps -aq --filter "label=$label")"
  [[ -z $ids ]] || docker rm -f -v $ids >/dev/null
  docker network rm "$net" >/dev/null 2>&1 || true
  docker volume rm "$volume" >/dev/null 2>&1 || true
}
work="$(mktemp -d)"
cleanup() {
  rm -rf "$work"
  if ((keep)); then echo "--keep: leaving containers, network $net and volume $volume" >&2; else remove_all; fi
}
trap cleanup EXIT

if ((build)); then
  # packages first: etcd and patroni are built FROM it (--build-arg PACKAGES_IMAGE), as the
  # project's image builder does; the backup store is built FROM the base and ignores it.
  for c in packages etcd patroni backup-store; do
    say "build ishchat/$c:$tag"
    start=$(now)
    # The backup store installs Azurite from npm; where a proxy intercepts TLS, npm needs the
    # host's CA bundle, which reaches that one build step as a secret (never a layer).
    secret=()
    [[ $c != backup-store || ! -s /etc/ssl/certs/ca-certificates.crt ]] \
      || secret=(--secret id=ca-bundle,src=/etc/ssl/certs/ca-certificates.crt)
    docker build -q "${secret[@]}" --build-arg "PACKAGES_IMAGE=ishchat/packages:$tag" -t "ishchat/$c:$tag" "$root/containers/$c" >/dev/null
    echo "built in $(elapsed "$start" "$(now)") s"
  done
fi

say "network $net, secrets"
remove_all
docker network create "$net" >/dev/null
secret() { openssl rand -base64 "${1:-24}" | tr -d '\n/+='; }
store_key="$(openssl rand -base64 64 | tr -d '\n')"
cipher_pass="$(secret 32)"
su_pw="$(secret)" repl_pw="$(secret)" rewind_pw="$(secret)" rest_pw="$(secret)"
app_pw="$(secret)" migrator_pw="$(secret)" monitor_pw="$(secret)" bouncer_pw="$(secret)"
# The CA that signs each node's certificate for pgBackRest's node-to-node TLS.
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=ishchat-backup-ca" \
  -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
ca_cert="$(cat "$work/ca.crt")" ca_key="$(cat "$work/ca.key")"

run() { # run <node-name> <image> [docker run args...]
  local node=$1 image=$2
  shift 2
  docker run -d --name "$prefix$node" --hostname "$node" --network "$net" \
    --network-alias "$node" --label "$label" "$@" "ishchat/$image:$tag" >/dev/null
}

say "start backup-store and etcd-0"
run backup-store backup-store -v "$volume:/var/lib/backup-store" \
  -e ISHCHAT_BACKUP_STORE_ACCOUNT=ishchat -e "ISHCHAT_BACKUP_STORE_KEY=$store_key" \
  -e ISHCHAT_BACKUP_STORE_CONTAINER=ishchat-backups
run etcd-0 etcd -e ETCD_NAME=etcd-0 -e ISHCHAT_ETCD_MEMBERS=etcd-0
for _ in $(seq 60); do
  [[ $(docker inspect -f '{{.State.Health.Status}}' "${prefix}backup-store") == healthy ]] && break
  sleep 1
done
[[ $(docker inspect -f '{{.State.Health.Status}}' "${prefix}backup-store") == healthy ]] \
  || { docker logs "${prefix}backup-store" >&2; fail "backup store not healthy"; }

pg_env() { # pg_env <scope> <comma list of nodes>: the environment of one Patroni node
  printf '%s\0' \
    "PATRONI_SCOPE=$1" PATRONI_ETCD3_HOSTS=etcd-0:2379 \
    "PATRONI_SUPERUSER_PASSWORD=$su_pw" "PATRONI_REPLICATION_PASSWORD=$repl_pw" \
    "PATRONI_REWIND_PASSWORD=$rewind_pw" "PATRONI_RESTAPI_PASSWORD=$rest_pw" \
    "ISHCHAT_APP_PASSWORD=$app_pw" "ISHCHAT_MIGRATOR_PASSWORD=$migrator_pw" \
    "ISHCHAT_MONITOR_PASSWORD=$monitor_pw" "ISHCHAT_PGBOUNCER_AUTH_PASSWORD=$bouncer_pw" \
    ISHCHAT_BACKUP_REPO_TYPE=azure ISHCHAT_BACKUP_STANZA=ishchat \
    ISHCHAT_BACKUP_AZURE_ACCOUNT=ishchat "ISHCHAT_BACKUP_AZURE_KEY=$store_key" \
    ISHCHAT_BACKUP_AZURE_CONTAINER=ishchat-backups ISHCHAT_BACKUP_URI_STYLE=path \
    ISHCHAT_BACKUP_STORAGE_HOST=backup-store ISHCHAT_BACKUP_STORAGE_PORT=10000 \
    ISHCHAT_BACKUP_STORAGE_VERIFY_TLS=n "ISHCHAT_BACKUP_CIPHER_PASS=$cipher_pass" \
    "ISHCHAT_BACKUP_NODES=$2" "ISHCHAT_BACKUP_TLS_CA_CERT=$ca_cert" "ISHCHAT_BACKUP_TLS_CA_KEY=$ca_key"
}
env_args() { # env_args <scope> <nodes> [extra VAR=value...] -> -e args on stdout, NUL separated
  local scope=$1 nodes=$2 kv
  shift 2
  while IFS= read -r -d '' kv; do printf -- '-e\0%s\0' "$kv"; done < <(pg_env "$scope" "$nodes"; printf '%s\0' "$@")
}
run_pg() { # run_pg <node> <scope> <nodes> [extra VAR=value...]
  local node=$1 scope=$2 nodes=$3 args=()
  shift 3
  mapfile -d '' args < <(env_args "$scope" "$nodes" "PATRONI_NAME=$node" "$@")
  run "$node" patroni "${args[@]}"
}

members() { # members <node>: "name role state timeline" per member, from Patroni's REST API
  docker exec "$prefix$1" curl -fsS "http://$1:8008/cluster" 2>/dev/null | python3 -c '
import json, sys
for m in json.load(sys.stdin)["members"]:
    print(m["name"], m["role"], m["state"], m.get("timeline", "-"))' 2>/dev/null || true
}
leader_of() { members "$1" | awk '$2 == "leader" && $3 == "running" { print $1 }'; }
wait_for_cluster() { # wait_for_cluster <any node> <replicas expected> <seconds>
  local i
  for ((i = 0; i < $3; i++)); do
    [[ -n $(leader_of "$1") && $(members "$1" | grep -c ' streaming ') -ge $2 ]] && return 0
    sleep 1
  done
  members "$1" >&2
  return 1
}
sql() { # sql <node> <sql>: as postgres over the local socket, database ishchat
  docker exec -i "$prefix$1" psql -X -q -v ON_ERROR_STOP=1 -At -d ishchat -c "$2"
}
pgbr() { local node=$1; shift; docker exec "$prefix$node" pgbackrest --stanza=ishchat "$@"; }

say "start pg-0, pg-1 (archiving to the store)"
start=$(now)
run_pg pg-0 ishchat pg-0,pg-1
run_pg pg-1 ishchat pg-0,pg-1
wait_for_cluster pg-0 1 180 || { docker logs "${prefix}pg-0" 2>&1 | tail -40 >&2; fail "cluster did not come up"; }
echo "leader + streaming replica after $(elapsed "$start" "$(now)") s"
members pg-0
leader=$(leader_of pg-0)
replica=$([[ $leader == pg-0 ]] && echo pg-1 || echo pg-0)

say "archiving works (pgbackrest check on the leader $leader)"
for _ in $(seq 30); do pgbr "$leader" check >/dev/null 2>&1 && break; sleep 2; done
pgbr "$leader" check || fail "pgbackrest check failed on the leader"

say "1. load $rows rows, full backup on the replica $replica"
sql "$leader" "CREATE TABLE bench_load (id bigint PRIMARY KEY, body text NOT NULL);
  INSERT INTO bench_load SELECT g, md5(g::text) || repeat(' chat message body', 5) FROM generate_series(1, $rows) g;
  CREATE TABLE proof (id bigserial PRIMARY KEY, phase text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());"
db_size=$(sql "$leader" "SELECT pg_size_pretty(pg_database_size('ishchat'))")
echo "database ishchat: $db_size"
start=$(now)
pgbr "$replica" --type=full backup | tee "$work/backup.log" | grep -E 'standby|full backup size|new backup label'
backup_s=$(elapsed "$start" "$(now)")
# pgBackRest copies from the standby only after waiting for it to replay the backup's start.
grep -q 'replay on the standby reached' "$work/backup.log" || fail "the backup was not taken from the standby"
read -r label_full size_db size_repo < <(pgbr "$replica" --output=json info | python3 -c '
import json, sys
b = json.load(sys.stdin)[0]["backup"][-1]
print(b["label"], b["info"]["size"], b["info"]["repository"]["delta"])')
mib() { awk -v b="$1" 'BEGIN { printf "%.0f MiB", b / 1048576 }'; }
echo "full backup $label_full from the standby: $backup_s s; data $(mib "$size_db"), in the repository $(mib "$size_repo") (zstd + AES-256)"

say "2. write A, note T, write B, switch over, write C"
sql "$leader" "INSERT INTO proof(phase) SELECT 'A' FROM generate_series(1, 100)"
sleep 1
target_time=$(sql "$leader" "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")
sleep 1
sql "$leader" "INSERT INTO proof(phase) SELECT 'B' FROM generate_series(1, 100)"
echo "T = $target_time"
old_leader=$leader
docker exec "$prefix$leader" patronictl switchover --force --candidate "$replica" >/dev/null
for _ in $(seq 60); do [[ $(leader_of "$replica") == "$replica" ]] && break; sleep 1; done
leader=$(leader_of "$replica")
[[ $leader == "$replica" ]] || fail "switchover did not complete"
members "$leader"
sql "$leader" "INSERT INTO proof(phase) SELECT 'C' FROM generate_series(1, 100)"
timeline=$(sql "$leader" "SELECT timeline_id FROM pg_control_checkpoint()")

say "3. the new leader $leader archives: history file and a fresh segment"
pgbr "$leader" check || fail "pgbackrest check failed on the new leader"
history=$(printf '%08X.history' "$timeline")
archive_dir=$(pgbr "$leader" repo-ls archive/ishchat | head -1)
pgbr "$leader" repo-ls "archive/ishchat/$archive_dir" | grep -qx "$history" \
  || fail "timeline history file $history not in the archive"
echo "archive/ishchat/$archive_dir holds $history"
# Every WAL segment from the backup's start to the newest archived one, on both timelines.
pgbr "$leader" --output=json info | python3 -c '
import json, sys
a = json.load(sys.stdin)[0]["archive"][0]
print("archived WAL:", a["min"], "..", a["max"])'

say "4. restore to the end of the archive in a throwaway container"
mapfile -d '' throwaway_env < <(env_args ishchat-throwaway restore-check PATRONI_NAME=restore-check)
start=$(now)
restored=$(docker run --rm -i --network "$net" --label "$label" --entrypoint bash "${throwaway_env[@]}" \
  "ishchat/patroni:$tag" -c '
    set -euo pipefail
    export ISHCHAT_BACKUP_STANZA=ishchat
    /usr/local/lib/ishchat/render-pgbackrest-config
    pgbackrest --stanza=ishchat --log-level-console=error --type=default --archive-mode=off restore
    pg_ctl -D /var/lib/postgresql/data -w -t 300 -l /tmp/pg.log start \
      -o "-c listen_addresses= -c unix_socket_directories=/var/run/postgresql" >/dev/null
    for _ in $(seq 300); do
      [[ $(psql -X -At -d ishchat -c "SELECT pg_is_in_recovery()") == f ]] && break
      sleep 0.2
    done
    psql -X -At -d ishchat -c "SELECT string_agg(phase || chr(58) || n, chr(32) ORDER BY phase) FROM (SELECT phase, count(*) n FROM proof GROUP BY phase) s"
  ') || fail "the throwaway restore failed (its output is above)"
latest_s=$(elapsed "$start" "$(now)")
echo "restored (latest): $restored in $latest_s s (restore + WAL replay + promotion)"
[[ $restored == "A:100 B:100 C:100" ]] || fail "expected A:100 B:100 C:100 after restoring to the end of the archive"

say "5. a new Patroni cluster from the backup, to T = $target_time"
start=$(now)
run_pg pitr-0 ishchat-pitr pitr-0,pitr-1 ISHCHAT_RESTORE_TYPE=time "ISHCHAT_RESTORE_TARGET=$target_time" \
  ISHCHAT_BACKUP_ARCHIVE=off
for _ in $(seq 300); do [[ -n $(leader_of pitr-0) ]] && break; sleep 1; done
[[ -n $(leader_of pitr-0) ]] || { docker logs "${prefix}pitr-0" 2>&1 | tail -40 >&2; fail "restored cluster has no leader"; }
pitr_s=$(elapsed "$start" "$(now)")
pitr=$(sql pitr-0 "SELECT string_agg(phase || ':' || n, ' ' ORDER BY phase) FROM (SELECT phase, count(*) n FROM proof GROUP BY phase) s")
last_a=$(sql pitr-0 "SELECT to_char(max(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM proof")
echo "restored cluster leader after $pitr_s s: $pitr (last row at $last_a, T = $target_time)"
[[ $pitr == "A:100" ]] || fail "expected only A:100 at T, got '$pitr'"
start=$(now)
run_pg pitr-1 ishchat-pitr pitr-0,pitr-1 ISHCHAT_RESTORE_TYPE=time "ISHCHAT_RESTORE_TARGET=$target_time" \
  ISHCHAT_BACKUP_ARCHIVE=off
wait_for_cluster pitr-0 1 300 || fail "pitr-1 did not clone and stream from the restored leader"
clone_s=$(elapsed "$start" "$(now)")
echo "pitr-1 cloned and streaming after $clone_s s"
members pitr-0
[[ $(sql pitr-1 "SELECT count(*) FROM proof") == 100 ]] || fail "pitr-1 does not see the restored rows"
[[ -z $(sql pitr-1 "SHOW recovery_target_time") ]] || fail "pitr-1 inherited a recovery target"

say "6. restore drill: restore point on the leader $leader, restore + checks in a throwaway container"
counts_sql="SELECT (SELECT count(*) FROM bench_load) || ' ' || (SELECT string_agg(phase || ':' || n, ' ' ORDER BY phase) FROM (SELECT phase, count(*) n FROM proof GROUP BY phase) s)"
point="drill-$(date -u +%Y%m%d-%H%M%S)"
live_counts=$(sql "$leader" "SELECT pg_create_restore_point('$point')" >/dev/null; sql "$leader" "$counts_sql")
pgbr "$leader" check >/dev/null || fail "pgbackrest check (archiving the restore point) failed"
mapfile -d '' drill_env < <(env_args ishchat-drill drill PATRONI_NAME=drill)
drill_name="${prefix}drill"
docker run -d --name "$drill_name" --network "$net" --label "$label" --entrypoint sleep "${drill_env[@]}" \
  "ishchat/patroni:$tag" infinity >/dev/null
start=$(now)
docker exec "$drill_name" ishchat-restore-drill "$point" | tee "$work/drill.log" || fail "the restore drill failed (its output is above)"
drill_s=$(elapsed "$start" "$(now)")
drill_rto=$(sed -n 's/.*promoted at .* after \([0-9.]*\) s$/\1/p' "$work/drill.log")
drill_counts=$(docker exec "$drill_name" psql -X -At -h /var/run/postgresql -d ishchat -c "$counts_sql")
docker rm -f -v "$drill_name" >/dev/null
echo "live at $point: $live_counts; restored: $drill_counts"
[[ $drill_counts == "$live_counts" ]] || fail "the drill's restored counts differ from the leader's at the restore point"
echo "drill passed in $drill_s s (restore + replay + promotion $drill_rto s, then pg_amcheck)"

say "PASSED"
printf 'database %s (%s rows): full backup on the replica %s s (%s in the repository); restore to the end of the archive %s s; new cluster at T: leader %s s, replica cloned %s s; restore drill %s s (RTO %s s)\n' \
  "$db_size" "$rows" "$backup_s" "$(mib "$size_repo")" "$latest_s" "$pitr_s" "$clone_s" "$drill_s" "$drill_rto"
