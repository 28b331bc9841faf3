#!/usr/bin/env bash
# Backup and point-in-time recovery, proven on real servers and timed (docs/backup.md).
#
# On a private docker network it starts the backup store (Azurite), one etcd member and two
# Patroni nodes (pg-0, pg-1) archiving WAL with pgBackRest, then:
#   1. applies the chat schema and generates chat data (--rows messages, default 2,500,000
#      ≈ 1 GB, over --instances instances of 100 sessions each), takes a full backup ON THE
#      REPLICA, timed, and checks pgBackRest says it was a backup from the standby;
#   2. writes A, notes time T, writes B, then switches over to the other node and writes C on
#      the new timeline;
#   3. checks the archive holds the new timeline's history file and that `pgbackrest check`
#      passes on the new leader (it archives a fresh segment and waits for it);
#   4. restores to the end of the archive in a throwaway container: A, B and C present
#      (proves archiving followed the leader with no gap), timed;
#   5. makes a NEW Patroni cluster from the backup to time T (custom bootstrap): A present,
#      B absent; a second member then clones from its new leader and streams; timed (RTO);
#   6. per-instance restore: messages of instance 1 deleted after T come back from a side
#      restore to T with ishchat-restore-instance (the CLI), while instance 2's writes after T
#      stay; timed;
#   7. WAL archiving under the API benchmark's write load (--api-seconds, default 60; 0 skips):
#      bench/api.sh --self-hosted cluster --backups samples the leader's current WAL segment
#      against the last archived one every 5 s.
#   8. a restore drill as the app host runs it (docs/backup.md#restore-drills): a restore point
#      on the leader, then `ishchat-restore-drill` in a throwaway container restores the newest
#      backup + WAL to it, checks consistency, the stop at the point and pg_amcheck; the
#      restored row counts must equal the leader's at the point; timed (RTO and in all).
# Secrets (store key, cipher passphrase, passwords, the CA for pgBackRest's TLS) are made
# at run time. etcd and each Patroni node get their TLS files (the cluster CA's certificate,
# their own certificate and key) from the same code as the AppHost and the test clusters
# (IshChat.Bench's tls-archive: IshChat.Cluster/Tls), copied in before they start.
# Traffic stays on the network. Everything it starts (label io.ishchat.backupbench=1), the
# network and the store's volume are removed on exit unless --keep.
#
# Usage: bench/backup.sh [--no-build] [--keep] [--rows N] [--instances N] [--api-seconds N]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tag="${ISHCHAT_BACKUP_BENCH_TAG:-backup-bench}"
net=ishchat-dur-backup
prefix=ishdur-
label=io.ishchat.backupbench=1
volume=ishdur-backup-store
build=1 keep=0 rows=2500000 instances=20 api_seconds=60
while (($#)); do
  case $1 in
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    --rows) rows=${2:?--rows needs a number}; shift ;;
    --instances) instances=${2:?--instances needs a number}; shift ;;
    --api-seconds) api_seconds=${2:?--api-seconds needs a number}; shift ;;
    *) echo "usage: $0 [--no-build] [--keep] [--rows N] [--instances N] [--api-seconds N]" >&2; exit 64 ;;
  esac
  shift
done
[[ $rows =~ ^[0-9]+$ && $instances =~ ^[1-9][0-9]*$ && $api_seconds =~ ^[0-9]+$ ]] \
  || { echo "--rows, --instances and --api-seconds must be numbers (--instances at least 1)" >&2; exit 64; }
((instances >= 2)) || { echo "--instances must be at least 2 (instance 2 proves the restore leaves others alone)" >&2; exit 64; }

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
  # Every image but the store is built FROM ishchat/packages (containers/packages), as the
  # project's image builder does; with its layers cached this is quick.
  for c in packages etcd patroni backup-store; do
    say "build ishchat/$c:$tag"
    start=$(now)
    # apt (packages) and npm (the backup store's Azurite): where a proxy intercepts TLS they need
    # the host's CA bundle, which reaches the build as a secret (never a layer), as the image builder does.
    secret=()
    [[ ! -s /etc/ssl/certs/ca-certificates.crt ]] || secret=(--secret id=ca-bundle,src=/etc/ssl/certs/ca-certificates.crt)
    from=()
    [[ $c == packages || $c == backup-store ]] || from=(--build-arg "PACKAGES_IMAGE=ishchat/packages:$tag")
    docker build -q "${secret[@]}" "${from[@]}" -t "ishchat/$c:$tag" "$root/containers/$c" >/dev/null
    echo "built in $(elapsed "$start" "$(now)") s"
  done
  say "build IshChat.Bench (the cluster's TLS files)"
  dotnet build "$root/IshChat.Bench" -c Release -nologo -v quiet -clp:ErrorsOnly
fi
bench_dll="$root/IshChat.Bench/bin/Release/net10.0/IshChat.Bench.dll"
[[ -f $bench_dll ]] || fail "$bench_dll is missing: run once without --no-build"

say "network $net, secrets"
remove_all
docker network create "$net" >/dev/null
secret() { openssl rand -base64 "${1:-24}" | tr -d '\n/+='; }
store_key="$(openssl rand -base64 64 | tr -d '\n')"
cipher_pass="$(secret 32)"
su_pw="$(secret)" repl_pw="$(secret)" rewind_pw="$(secret)" rest_pw="$(secret)"
app_pw="$(secret)" admin_pw="$(secret)" importer_pw="$(secret)" migrator_pw="$(secret)" monitor_pw="$(secret)" bouncer_pw="$(secret)"
# The CA that signs each node's certificate for pgBackRest's node-to-node TLS.
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=ishchat-backup-ca" \
  -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
ca_cert="$(cat "$work/ca.crt")" ca_key="$(cat "$work/ca.key")"

# The cluster CA (its key included: it stays in $work, 0700, removed on exit); its certificate
# beside it, $work/cluster-ca.crt, is what the host's clients verify the nodes against.
cluster_ca="$work/cluster-ca.pem"
run() { # run <node-name> <image> [docker run args...]
  local node=$1 image=$2
  shift 2
  docker create --name "$prefix$node" --hostname "$node" --network "$net" \
    --network-alias "$node" --label "$label" "$@" "ishchat/$image:$tag" >/dev/null
  # etcd and PostgreSQL/Patroni serve only TLS: their files before they start, owned by the
  # image's user (docker cp -a keeps the archive's owners), as the AppHost hands them over.
  if [[ $image == etcd || $image == patroni ]]; then
    dotnet "$bench_dll" tls-archive --ca "$cluster_ca" --image "$image" --name "$node" \
      | docker cp -a - "$prefix$node:/etc" || fail "could not copy $node's TLS files in"
  fi
  docker start "$prefix$node" >/dev/null
}

say "start backup-store and etcd-0"
run backup-store backup-store -v "$volume:/var/lib/backup-store" \
  -e ISHCHAT_BACKUP_STORE_ACCOUNT=ishchat -e "ISHCHAT_BACKUP_STORE_KEY=$store_key" \
  -e ISHCHAT_BACKUP_STORE_CONTAINER=ishchat-backups
run etcd-0 etcd -e ETCD_NAME=etcd-0 -e ISHCHAT_ETCD_MEMBERS=etcd-0
# Up to 3 minutes: on a loaded machine the store's health check (3 s time-out) fails a few times first.
for _ in $(seq 180); do
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
    "ISHCHAT_APP_PASSWORD=$app_pw" "ISHCHAT_ADMIN_PASSWORD=$admin_pw" "ISHCHAT_IMPORTER_PASSWORD=$importer_pw" "ISHCHAT_MIGRATOR_PASSWORD=$migrator_pw" \
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
  # PostgreSQL on a loopback host port: ishchat-restore-instance writes to the live leader from here.
  run "$node" patroni -p 127.0.0.1::5432 "${args[@]}"
}
host_port() { docker port "$prefix$1" 5432/tcp | head -1 | sed 's/.*://'; }

members() { # members <node>: "name role state timeline" per member, from Patroni's REST API
  docker exec "$prefix$1" curl -fsS --cacert /etc/ishchat/tls/ca.crt "https://$1:8008/cluster" 2>/dev/null | python3 -c '
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

say "1. chat schema, $rows messages over $instances instances, full backup on the replica $replica"
# The migration service's own scripts, as the migrator (what SchemaMigrator runs, minus DbUp's journal).
start=$(now)
{ echo "CREATE SCHEMA IF NOT EXISTS chat;"; cat "$root"/IshChat.MigrationService/Migrations/*.sql; } \
  | docker exec -i -e PGPASSWORD="$migrator_pw" "$prefix$leader" \
      psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U ishchat_migrator -d ishchat >/dev/null
instance_id() { printf '00000000-0000-4000-8000-%012d' "$1"; }
per_session=$(( (rows + instances * 100 - 1) / (instances * 100) ))
# As the superuser: the benchmarks' one data generator (bench/chat-data.sql).
docker exec -i "$prefix$leader" psql -X -q -v ON_ERROR_STOP=1 -v "instances=$instances" -v "per_session=$per_session" \
  -d ishchat -f - <"$root/bench/chat-data.sql" >/dev/null
sql "$leader" "CREATE TABLE proof (id bigserial PRIMARY KEY, phase text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())"
db_size=$(sql "$leader" "SELECT pg_size_pretty(pg_database_size('ishchat'))")
messages=$(sql "$leader" "SELECT count(*) FROM chat.messages")
instance_messages=$(sql "$leader" "SELECT count(*) FROM chat.messages WHERE instance_id = '$(instance_id 1)'")
generate_s=$(elapsed "$start" "$(now)")
echo "database ishchat: $db_size, $messages messages ($instance_messages per instance), generated in $generate_s s"
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
# After T: instance 1 loses messages by mistake; instance 2 gets new ones and loses one on purpose.
deleted=$(sql "$leader" "WITH d AS (DELETE FROM chat.messages WHERE instance_id = '$(instance_id 1)' AND seq <= 10 RETURNING 1) SELECT count(*) FROM d")
sql "$leader" "DELETE FROM chat.messages WHERE instance_id = '$(instance_id 2)' AND seq = 1;
  INSERT INTO chat.messages (instance_id, session_id, seq, client_message_id, sender_device_id, body)
    SELECT instance_id, session_id, message_count + 1, gen_random_uuid(), device_id, 'after T' FROM chat.sessions WHERE instance_id = '$(instance_id 2)';
  UPDATE chat.sessions SET message_count = message_count + 1 WHERE instance_id = '$(instance_id 2)';"
instance2_after=$(sql "$leader" "SELECT count(*) FROM chat.messages WHERE instance_id = '$(instance_id 2)'")
echo "after T: $deleted messages of instance 1 deleted; instance 2 now has $instance2_after messages"
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
    # Socket only, so ssl=off: the copy'"'"'s TLS settings name certificate files this container lacks.
    pg_ctl -D /var/lib/postgresql/data -w -t 300 -l /tmp/pg.log start \
      -o "-c listen_addresses= -c unix_socket_directories=/var/run/postgresql -c ssl=off" >/dev/null
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

say "6. restore instance 1 to T with ishchat-restore-instance (live leader $leader)"
if ((build)); then dotnet build "$root/IshChat.InstanceRestore" -c Release -nologo -v quiet -clp:ErrorsOnly; fi
# Verified TLS, as the AppHost's connection strings: the node's certificate names 127.0.0.1 too.
live="Host=127.0.0.1;Port=$(host_port "$leader");Database=ishchat;Username=ishchat_admin;Password=$admin_pw;Timeout=30;SSL Mode=VerifyFull;Root Certificate=${cluster_ca%.pem}.crt"
start=$(now)
ISHCHAT_LIVE_CONNECTION="$live" dotnet "$root/IshChat.InstanceRestore/bin/Release/net10.0/ishchat-restore-instance.dll" \
  --node "$prefix$leader" --instance "$(instance_id 1)" --time "$target_time" | tee "$work/instance.log" \
  || fail "ishchat-restore-instance failed"
instance_s=$(elapsed "$start" "$(now)")
side_s=$(sed -n 's/^Side restore \([0-9.]*\) s, compare and copy \([0-9.]*\) s.*/\1/p' "$work/instance.log")
copy_s=$(sed -n 's/^Side restore \([0-9.]*\) s, compare and copy \([0-9.]*\) s.*/\2/p' "$work/instance.log")
[[ $(sql "$leader" "SELECT count(*) FROM chat.messages WHERE instance_id = '$(instance_id 1)'") == "$instance_messages" ]] \
  || fail "instance 1 does not have its $instance_messages messages back"
[[ $(sql "$leader" "SELECT count(*) FROM chat.messages WHERE instance_id = '$(instance_id 2)'") == "$instance2_after" ]] \
  || fail "instance 2 changed: the restore of instance 1 touched it"
grep -q "chat.messages: $instance_messages at the target, $((instance_messages - deleted)) live → $deleted reinserted" "$work/instance.log" \
  || fail "the report does not say $deleted messages were reinserted"
echo "instance 1 ($instance_messages messages, $deleted deleted) restored in $instance_s s (side restore $side_s s, compare and copy $copy_s s); instance 2 untouched"

api_report="skipped (--api-seconds 0)"
if ((api_seconds > 0)); then
  say "7. WAL archiving under the API benchmark's write load ($api_seconds s, 16 clients)"
  bash "$root/bench/api.sh" --self-hosted cluster --backups --clients 16 --seconds "$api_seconds" | tee "$work/api.log" | grep -E '^\[archive\]|posts/s|^HA' || true
  api_report=$(grep -E '^\[archive\] under load' "$work/api.log" | tail -1 | sed 's/^\[archive\] //')
  [[ -n $api_report ]] || fail "the API bench printed no archive summary (see above)"
fi


say "8. restore drill: restore point on the leader $leader, restore + checks in a throwaway container"
counts_sql="SELECT (SELECT count(*) FROM chat.messages) || ' ' || (SELECT string_agg(phase || ':' || n, ' ' ORDER BY phase) FROM (SELECT phase, count(*) n FROM proof GROUP BY phase) s)"
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
printf 'database %s (%s messages): generated %s s; full backup on the replica %s s (%s in the repository); restore to the end of the archive %s s; new cluster at T: leader %s s, replica cloned %s s; instance restore %s s (side restore %s s, copy %s s); restore drill %s s (RTO %s s)\nAPI load: %s\n' \
  "$db_size" "$messages" "$generate_s" "$backup_s" "$(mib "$size_repo")" "$latest_s" "$pitr_s" "$clone_s" "$instance_s" "$side_s" "$copy_s" "$drill_s" "$drill_rto" "$api_report"
