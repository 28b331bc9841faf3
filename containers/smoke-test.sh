#!/usr/bin/env bash
# End-to-end smoke test of the IshChat container images.
#
# Builds the five images (unless --no-build), then on a private docker network
# (ishchat-smoke) starts 3 etcd members, 4 Patroni nodes (pg-0..pg-3), HAProxy and
# PgBouncer, each reachable on that network by its node name, and checks:
#   1. patronictl list: one leader and three streaming replicas;
#   2. through PgBouncer as the app user: "ishchat" reaches the leader, "ishchat_ro" a
#      replica; a table created by the migrator is written via one and read via the
#      other; superuser/replication logins are refused by PgBouncer;
#   3. a switchover moves the leader and writes through PgBouncer resume;
#   4. `docker kill` of the leader: a replica takes over and writes resume (timed);
#   5. HAProxy :7000/metrics and etcd :2379/health answer.
# Traffic only ever goes to these containers. Everything it starts (label
# io.ishchat.smoke=1) and the network are removed on exit unless --keep is given.
#
# Usage: containers/smoke-test.sh [--no-build] [--keep]
#   ISHCHAT_SMOKE_SYNCHRONOUS_MODE=off|on|quorum (default off) picks Patroni's mode.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tag="${ISHCHAT_SMOKE_TAG:-dev}"
net=ishchat-smoke
# Container names are global to the engine, so they carry a prefix to stay clear of
# anything else running here; on $net each container is known by its bare node name.
prefix=ishsmoke-
label=io.ishchat.smoke=1
build=1 keep=0
for arg in "$@"; do
  case $arg in
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    *) echo "usage: $0 [--no-build] [--keep]" >&2; exit 64 ;;
  esac
done

say() { printf '\n=== %s\n' "$*"; }
fail() { printf '\nSMOKE TEST FAILED: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

remove_all() {
  local ids
  ids="$(docker ps -aq --filter "label=$label")"
  [[ -z $ids ]] || docker rm -f $ids >/dev/null
  docker network rm "$net" >/dev/null 2>&1 || true
}
cleanup() {
  if ((keep)); then
    echo "--keep: leaving containers and network $net running" >&2
  else
    remove_all
  fi
}
trap cleanup EXIT

# Test credentials. Several contain quotes, spaces, '#', ':' and '\' to prove that
# every layer (YAML, psql variables, pgpass, PgBouncer auth_file) quotes correctly.
su_pw="su pw 'with' \"quotes\""
repl_pw='repl:pw#1 x'
rewind_pw='rewind pw\back'
rest_pw="rest pw 'q'"
app_pw="it's a \"test\" pw #1"
migrator_pw='mig pw; DROP ROLE x; --'
monitor_pw='monitor pw'
bouncer_pw='bouncer "auth" pw'

if ((build)); then
  for c in etcd patroni haproxy pgbouncer redis; do
    say "build ishchat/$c:$tag"
    start=$(now)
    docker build -q -t "ishchat/$c:$tag" "$here/$c" >/dev/null
    echo "built in $(elapsed "$start" "$(now)") s"
  done
fi

say "network $net"
remove_all   # leftovers of an earlier --keep run
docker network create "$net" >/dev/null

# Other tooling on a shared engine may retag or prune ishchat/* images while this runs;
# rebuild (from cache, sub-second) anything that has gone missing.
ensure_image() {
  docker image inspect "ishchat/$1:$tag" >/dev/null 2>&1 \
    || docker build -q -t "ishchat/$1:$tag" "$here/$1" >/dev/null
}

run() { # run <node-name> <image> [docker run args...]
  local node=$1 image=$2
  shift 2
  ensure_image "$image"
  docker run -d --name "$prefix$node" --hostname "$node" --network "$net" \
    --network-alias "$node" --label "$label" "$@" "ishchat/$image:$tag" >/dev/null
}

say "start etcd-0..2"
for i in 0 1 2; do
  run "etcd-$i" etcd -e ETCD_NAME="etcd-$i" -e ISHCHAT_ETCD_MEMBERS=etcd-0,etcd-1,etcd-2
done

pg_env=(
  -e PATRONI_SCOPE=ishchat
  -e PATRONI_ETCD3_HOSTS=etcd-0:2379,etcd-1:2379,etcd-2:2379
  -e PATRONI_SUPERUSER_USERNAME=postgres -e "PATRONI_SUPERUSER_PASSWORD=$su_pw"
  -e PATRONI_REPLICATION_USERNAME=replicator -e "PATRONI_REPLICATION_PASSWORD=$repl_pw"
  -e PATRONI_REWIND_USERNAME=rewind_user -e "PATRONI_REWIND_PASSWORD=$rewind_pw"
  -e PATRONI_RESTAPI_USERNAME=patroni -e "PATRONI_RESTAPI_PASSWORD=$rest_pw"
  -e ISHCHAT_PATRONI_TTL=20 -e ISHCHAT_PATRONI_LOOP_WAIT=2 -e ISHCHAT_PATRONI_RETRY_TIMEOUT=5
  -e ISHCHAT_PATRONI_PRIMARY_START_TIMEOUT=10 -e ISHCHAT_PATRONI_MAXIMUM_LAG_ON_FAILOVER=1048576
  -e "ISHCHAT_PATRONI_SYNCHRONOUS_MODE=${ISHCHAT_SMOKE_SYNCHRONOUS_MODE:-off}"
  -e ISHCHAT_PATRONI_SYNCHRONOUS_NODE_COUNT=1
  -e ISHCHAT_PATRONI_FAILSAFE_MODE=false
  -e ISHCHAT_DATABASE=ishchat
  -e ISHCHAT_APP_USER=ishchat_app -e "ISHCHAT_APP_PASSWORD=$app_pw"
  -e ISHCHAT_MIGRATOR_USER=ishchat_migrator -e "ISHCHAT_MIGRATOR_PASSWORD=$migrator_pw"
  -e ISHCHAT_MONITOR_USER=ishchat_monitor -e "ISHCHAT_MONITOR_PASSWORD=$monitor_pw"
  -e ISHCHAT_PGBOUNCER_AUTH_USER=pgbouncer_auth -e "ISHCHAT_PGBOUNCER_AUTH_PASSWORD=$bouncer_pw"
)
say "start pg-0..3, haproxy, pgbouncer (all at once, as the app host would)"
cluster_start=$(now)
for i in 0 1 2 3; do
  run "pg-$i" patroni -e PATRONI_NAME="pg-$i" "${pg_env[@]}"
done
run haproxy haproxy -e ISHCHAT_PATRONI_NODES=pg-0,pg-1,pg-2,pg-3 \
  -e ISHCHAT_PATRONI_PG_PORT=5432 -e ISHCHAT_PATRONI_REST_PORT=8008
run pgbouncer pgbouncer -e ISHCHAT_PGBOUNCER_UPSTREAM_HOST=haproxy \
  -e ISHCHAT_PGBOUNCER_RW_PORT=5000 -e ISHCHAT_PGBOUNCER_RO_PORT=5001 -e ISHCHAT_DATABASE=ishchat \
  -e ISHCHAT_PGBOUNCER_AUTH_USER=pgbouncer_auth -e "ISHCHAT_PGBOUNCER_AUTH_PASSWORD=$bouncer_pw" \
  -e ISHCHAT_PGBOUNCER_DEFAULT_POOL_SIZE=20 -e ISHCHAT_PGBOUNCER_MAX_DB_CONNECTIONS=100 \
  -e ISHCHAT_PGBOUNCER_MAX_CLIENT_CONN=1000

# psql through PgBouncer, from inside the pgbouncer container. The 3 s cap matters
# during failover: PgBouncer queues a query while it has no server, it does not fail.
bouncer_psql() { # bouncer_psql <user> <password> <db> <psql args...>
  local user=$1 pw=$2 db=$3
  shift 3
  docker exec -i -e "PGPASSWORD=$pw" "${prefix}pgbouncer" timeout 3 \
    psql "host=127.0.0.1 port=6432 dbname=$db user=$user connect_timeout=2" \
    -X -q -v ON_ERROR_STOP=1 -At "$@"
}
app_psql() { bouncer_psql ishchat_app "$app_pw" "$@" </dev/null; }

leader() {
  docker exec "${prefix}pg-0" curl -fsS http://pg-0:8008/cluster 2>/dev/null \
    | python3 -c 'import json,sys; print(next(m["name"] for m in json.load(sys.stdin)["members"] if m["role"]=="leader"))' \
    2>/dev/null || true
}
any_pg() { # a running Patroni container other than $1
  local i
  for i in 0 1 2 3; do
    [[ pg-$i == "${1:-}" ]] && continue
    docker inspect -f '{{.State.Running}}' "${prefix}pg-$i" 2>/dev/null | grep -q true && { echo "pg-$i"; return; }
  done
}
patronictl_list() { docker exec "$prefix$(any_pg "${1:-}")" patronictl list; }
# Replicas show as "Replica", "Sync Standby" or "Quorum Standby" depending on the mode.
streaming_count() { patronictl_list "${1:-}" 2>/dev/null | grep -c '| streaming ' || true; }

say "wait for etcd"
for _ in $(seq 60); do
  docker exec "${prefix}etcd-0" etcdctl --endpoints=etcd-0:2379,etcd-1:2379,etcd-2:2379 \
    endpoint health >/dev/null 2>&1 && break
  sleep 1
done
docker exec "${prefix}etcd-0" etcdctl --endpoints=etcd-0:2379,etcd-1:2379,etcd-2:2379 \
  endpoint health || fail "etcd cluster not healthy"

say "1. wait for 1 leader + 3 streaming replicas"
for _ in $(seq 180); do
  [[ $(streaming_count) == 3 && -n $(leader) ]] && break
  sleep 1
done
echo "cluster ready after $(elapsed "$cluster_start" "$(now)") s"
docker exec "${prefix}pg-0" patronictl list
[[ $(streaming_count) == 3 ]] || fail "expected 3 streaming replicas"

say "2. routing through PgBouncer"
for _ in $(seq 30); do app_psql ishchat -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 1; done
rw=$(app_psql ishchat -c 'SELECT pg_is_in_recovery()')
ro=$(app_psql ishchat_ro -c 'SELECT pg_is_in_recovery()')
echo "ishchat    (app user): pg_is_in_recovery = $rw"
echo "ishchat_ro (app user): pg_is_in_recovery = $ro"
[[ $rw == f && $ro == t ]] || fail "rw/ro routing wrong (rw=$rw ro=$ro)"

bouncer_psql ishchat_migrator "$migrator_pw" ishchat <<'SQL'
CREATE SCHEMA IF NOT EXISTS chat;
CREATE TABLE IF NOT EXISTS chat.smoke (id bigserial PRIMARY KEY, note text NOT NULL,
                                       at timestamptz NOT NULL DEFAULT now());
GRANT USAGE ON SCHEMA chat TO ishchat_app;
GRANT SELECT, INSERT ON chat.smoke TO ishchat_app;
GRANT USAGE ON SEQUENCE chat.smoke_id_seq TO ishchat_app;
SQL
echo "migrator created chat.smoke; owner: $(bouncer_psql ishchat_migrator "$migrator_pw" ishchat \
  -c "SELECT tableowner FROM pg_tables WHERE schemaname='chat' AND tablename='smoke'" </dev/null)"
app_psql ishchat -c "INSERT INTO chat.smoke(note) VALUES ('written via ishchat')"
seen=""
for _ in $(seq 20); do
  seen=$(app_psql ishchat_ro -c "SELECT note || ' / read on ' || CASE WHEN pg_is_in_recovery() THEN 'replica' ELSE 'primary' END FROM chat.smoke ORDER BY id DESC LIMIT 1" 2>/dev/null || true)
  [[ -n $seen ]] && break
  sleep 0.5
done
echo "read back via ishchat_ro: $seen"
[[ $seen == "written via ishchat / read on replica" ]] || fail "write via ishchat not readable via ishchat_ro"
if app_psql ishchat_ro -c "INSERT INTO chat.smoke(note) VALUES ('x')" 2>/dev/null; then
  fail "write via ishchat_ro succeeded"
fi
echo "write via ishchat_ro refused (read-only), as expected"
for u in postgres replicator rewind_user; do
  if bouncer_psql "$u" "$su_pw" postgres -c 'SELECT 1' </dev/null >/dev/null 2>&1; then
    fail "PgBouncer let $u log in"
  fi
done
echo "PgBouncer refuses postgres/replicator/rewind_user logins (not returned by pgbouncer.get_auth)"
echo "monitor user sees pg_stat_statements rows: $(bouncer_psql ishchat_monitor "$monitor_pw" ishchat \
  -c 'SELECT count(*) > 0 FROM pg_stat_statements' </dev/null)"

# wait_for_writes <label> <t0>: poll writes through PgBouncer until one succeeds.
wait_for_writes() {
  local what=$1 t0=$2 failures=0
  for _ in $(seq 300); do
    if app_psql ishchat -c "INSERT INTO chat.smoke(note) VALUES ('after $what')" >/dev/null 2>&1; then
      echo "writes through PgBouncer resumed $(elapsed "$t0" "$(now)") s after the $what ($failures failed attempts)"
      return 0
    fi
    failures=$((failures + 1))
    sleep 0.2
  done
  fail "writes did not resume after the $what"
}

say "3. switchover"
old=$(leader)
candidate=$(patronictl_list | awk -F'|' '$4 !~ /Leader/ && $5 ~ /streaming/ {gsub(/ /,"",$2); print $2; exit}')
echo "leader: $old -> candidate: $candidate"
t0=$(now)
docker exec "${prefix}pg-0" patronictl switchover --leader "$old" --candidate "$candidate" --force
wait_for_writes switchover "$t0"
new=$(leader)
echo "leader now: $new"
[[ $new == "$candidate" ]] || fail "switchover did not move the leader to $candidate"
for _ in $(seq 60); do [[ $(streaming_count) == 3 ]] && break; sleep 1; done
docker exec "${prefix}pg-0" patronictl list

say "4. docker kill the leader"
victim=$(leader)
echo "killing leader $victim"
t0=$(now)
docker kill "$prefix$victim" >/dev/null
wait_for_writes "kill of $victim" "$t0"
for _ in $(seq 30); do
  l=$(docker exec "$prefix$(any_pg "$victim")" curl -fsS "http://$(any_pg "$victim"):8008/cluster" 2>/dev/null \
      | python3 -c 'import json,sys; print(next(m["name"] for m in json.load(sys.stdin)["members"] if m["role"]=="leader"))' 2>/dev/null || true)
  [[ -n $l && $l != "$victim" ]] && break
  sleep 1
done
echo "new leader: $l"
patronictl_list "$victim"
rw=$(app_psql ishchat -c 'SELECT pg_is_in_recovery()')
[[ $rw == f ]] || fail "ishchat does not reach a primary after failover"
echo "rows written through the whole test: $(app_psql ishchat -c 'SELECT count(*) FROM chat.smoke')"

say "4b. restart the killed node: it rejoins as a replica"
t0=$(now)
docker start "$prefix$victim" >/dev/null
for _ in $(seq 120); do [[ $(streaming_count "$victim") == 3 ]] && break; sleep 1; done
echo "rejoined after $(elapsed "$t0" "$(now)") s"
patronictl_list "$victim"

say "5. HAProxy /metrics and etcd /health"
probe=$prefix$(any_pg)
docker exec "$probe" curl -fsS http://haproxy:7000/metrics | grep -E '^haproxy_(backend_active_servers|process_nbthread)' | head -5
docker exec "$probe" curl -fsS -o /dev/null -w 'haproxy /stats HTTP %{http_code}\n' http://haproxy:7000/stats
for i in 0 1 2; do
  echo "etcd-$i /health: $(docker exec "$probe" curl -fsS "http://etcd-$i:2379/health")"
done
docker exec "$probe" curl -fsS http://etcd-0:2379/metrics | grep -E '^etcd_server_has_leader'

say "redis image: /bin/sh override as Aspire does it"
ensure_image redis
docker run -d --name "${prefix}redis" --network "$net" --network-alias redis --label "$label" \
  -e REDIS_PASSWORD='redis pw' --entrypoint /bin/sh "ishchat/redis:$tag" \
  -c 'redis-server --requirepass "$REDIS_PASSWORD" --save 60 1' >/dev/null
sleep 1
docker exec "${prefix}redis" redis-cli -a 'redis pw' --no-auth-warning PING

say "image sizes"
docker images --format 'table {{.Repository}}:{{.Tag}}\t{{.Size}}' | grep -E "^ishchat/.*:$tag\b|REPOSITORY"

say "SMOKE TEST PASSED"
