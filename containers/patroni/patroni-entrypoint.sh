#!/usr/bin/env bash
# Entrypoint of ishchat/patroni. Checks the environment contract, fills in the
# documented defaults, makes sure the data dir is usable, renders
# /etc/patroni/patroni.yml (0600, it holds passwords) from the template, then execs
# Patroni so that tini hands SIGTERM straight to it (Patroni stops PostgreSQL
# cleanly and releases the leader key, which makes a planned stop fail over fast).
set -euo pipefail

die() { printf 'patroni-entrypoint: error: %s\n' "$*" >&2; exit 64; }

# The official postgres image's contract (POSTGRES_PASSWORD, no Patroni member name): one plain
# server, for Testcontainers.PostgreSql, Aspire's AddPostgres and the laptop topology (README).
if [[ -z ${PATRONI_NAME:-} && -n ${POSTGRES_PASSWORD:-} ]]; then
  exec /usr/local/bin/ishchat-single-postgres "$@"
fi

# Every member needs every password: whichever node wins the initialise race runs
# post_bootstrap and creates the application roles, and any node may become leader.
required=(
  PATRONI_NAME PATRONI_SCOPE PATRONI_ETCD3_HOSTS
  PATRONI_SUPERUSER_PASSWORD PATRONI_REPLICATION_PASSWORD PATRONI_REWIND_PASSWORD
  PATRONI_RESTAPI_PASSWORD
  ISHCHAT_APP_PASSWORD ISHCHAT_ADMIN_PASSWORD ISHCHAT_IMPORTER_PASSWORD ISHCHAT_MIGRATOR_PASSWORD ISHCHAT_MONITOR_PASSWORD
  ISHCHAT_PGBOUNCER_AUTH_PASSWORD
)
missing=()
for var in "${required[@]}"; do
  [[ -n ${!var:-} ]] || missing+=("$var")
done
((${#missing[@]} == 0)) || die "missing required environment variable(s): ${missing[*]}"

# Exported, not just defaulted in the template: Patroni itself reads PATRONI_* from
# the environment (overriding the file) and post_bootstrap reads the ISHCHAT_* ones,
# so all three must agree.
export PATRONI_SUPERUSER_USERNAME="${PATRONI_SUPERUSER_USERNAME:-postgres}"
export PATRONI_REPLICATION_USERNAME="${PATRONI_REPLICATION_USERNAME:-replicator}"
export PATRONI_REWIND_USERNAME="${PATRONI_REWIND_USERNAME:-rewind_user}"
export PATRONI_RESTAPI_USERNAME="${PATRONI_RESTAPI_USERNAME:-patroni}"
export ISHCHAT_DATABASE="${ISHCHAT_DATABASE:-ishchat}"
export ISHCHAT_APP_USER="${ISHCHAT_APP_USER:-ishchat_app}"
export ISHCHAT_ADMIN_USER="${ISHCHAT_ADMIN_USER:-ishchat_admin}"
export ISHCHAT_IMPORTER_USER="${ISHCHAT_IMPORTER_USER:-ishchat_importer}"
export ISHCHAT_MIGRATOR_USER="${ISHCHAT_MIGRATOR_USER:-ishchat_migrator}"
export ISHCHAT_MONITOR_USER="${ISHCHAT_MONITOR_USER:-ishchat_monitor}"
export ISHCHAT_PGBOUNCER_AUTH_USER="${ISHCHAT_PGBOUNCER_AUTH_USER:-pgbouncer_auth}"

ident_re='^[A-Za-z_][A-Za-z0-9_]{0,62}$'
for var in ISHCHAT_DATABASE ISHCHAT_APP_USER ISHCHAT_ADMIN_USER ISHCHAT_IMPORTER_USER ISHCHAT_MIGRATOR_USER ISHCHAT_MONITOR_USER \
           ISHCHAT_PGBOUNCER_AUTH_USER; do
  [[ ${!var} =~ $ident_re ]] \
    || die "$var='${!var}' must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63 chars)"
done

# Reusing one of Patroni's own roles as an application role would have post_bootstrap
# turn it into a NOSUPERUSER login and break the cluster.
declare -A owner=()
for var in PATRONI_SUPERUSER_USERNAME PATRONI_REPLICATION_USERNAME PATRONI_REWIND_USERNAME \
           ISHCHAT_APP_USER ISHCHAT_ADMIN_USER ISHCHAT_IMPORTER_USER ISHCHAT_MIGRATOR_USER ISHCHAT_MONITOR_USER ISHCHAT_PGBOUNCER_AUTH_USER; do
  [[ -z ${owner[${!var}]:-} ]] || die "$var and ${owner[${!var}]} name the same role '${!var}'"
  owner[${!var}]=$var
done

# A volume mounted over the data dir may arrive root-owned or with loose modes;
# PostgreSQL refuses both, so say exactly what is wrong up front.
data_dir=/var/lib/postgresql/data
if [[ ! -d $data_dir ]]; then
  mkdir -p "$data_dir" 2>/dev/null \
    || die "cannot create $data_dir as $(id -un); mount it writable for uid $(id -u)"
fi
[[ -O $data_dir ]] \
  || die "$data_dir must be owned by $(id -un) (uid $(id -u)), not $(stat -c '%U:%G (uid %u)' "$data_dir")"
chmod 0700 "$data_dir"

# With the data dir on a volume (the AppHost's), a restart finds the old cluster: Patroni starts
# it as it is (no bootstrap, same system identifier) and rejoins it as leader or replica,
# rewinding with pg_rewind when its timeline diverged. Say which case this is, and refuse data of
# another major version, which PostgreSQL 17 cannot start.
if [[ -s $data_dir/PG_VERSION ]]; then
  pg_version=$(<"$data_dir/PG_VERSION")
  [[ $pg_version == "$(pg_config --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')" ]] \
    || die "$data_dir holds PostgreSQL $pg_version data; this image runs $(pg_config --version). Upgrade it with pg_upgrade, or remove the volume (eng/down.sh --volumes) to start empty"
  system_id=$(pg_controldata "$data_dir" 2>/dev/null | sed -n 's/^Database system identifier: *//p')
  echo "patroni-entrypoint: $data_dir holds PostgreSQL $pg_version data, system identifier ${system_id:-unknown}: starting it, no bootstrap" >&2
elif [[ -n $(ls -A "$data_dir") ]]; then
  echo "patroni-entrypoint: $data_dir holds no complete cluster (an interrupted clone?): Patroni decides whether to re-clone it" >&2
else
  echo "patroni-entrypoint: $data_dir is empty: Patroni bootstraps a new cluster or clones this member from the leader" >&2
fi

# TLS (docs/security.md): PostgreSQL accepts only TLS over TCP, so without its certificate it
# could serve nobody. Handed in as files by the AppHost or the test cluster, never environment.
tls=/etc/ishchat/tls
for file in ca.crt server.crt server.key; do
  [[ -r $tls/$file ]] || die "$tls/$file is missing or unreadable for $(id -un): mount the cluster CA's certificate, this node's certificate and its key there (containers/patroni/README.md)"
done
[[ $(stat -c %a "$tls/server.key") == 600 && -O $tls/server.key ]] \
  || die "$tls/server.key must be mode 0600 and owned by $(id -un) (uid $(id -u)), not $(stat -c '%a %U (uid %u)' "$tls/server.key"): PostgreSQL refuses it otherwise"

# Backups (docs/backup.md): one stanza name for every node and both renderers.
export ISHCHAT_BACKUP_REPO_TYPE="${ISHCHAT_BACKUP_REPO_TYPE:-none}"
export ISHCHAT_BACKUP_STANZA="${ISHCHAT_BACKUP_STANZA:-$PATRONI_SCOPE}"
export ISHCHAT_RESTORE_TYPE="${ISHCHAT_RESTORE_TYPE:-none}"

/usr/local/lib/ishchat/render-patroni-config

if [[ $ISHCHAT_BACKUP_REPO_TYPE != none ]]; then
  /usr/local/lib/ishchat/render-pgbackrest-config
  # pgBackRest's TLS server lets a backup running on another node (a replica) start and stop
  # the backup here. Restarted if it ever exits; it dies with the container.
  ( while true; do
      pgbackrest server || echo "patroni-entrypoint: pgbackrest server exited ($?), restarting" >&2
      sleep 1
    done ) &
fi

echo "patroni-entrypoint: starting Patroni member $PATRONI_NAME of cluster $PATRONI_SCOPE (DCS: etcd v3 at $PATRONI_ETCD3_HOSTS)" >&2
exec /usr/bin/patroni /etc/patroni/patroni.yml
