#!/usr/bin/env bash
# Single-server mode of ishchat/patroni: the official postgres image's environment contract
# (POSTGRES_PASSWORD, POSTGRES_USER, POSTGRES_DB, POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD,
# /docker-entrypoint-initdb.d, data in /var/lib/postgresql/data, port 5432, arguments passed to
# `postgres`), so that Testcontainers.PostgreSql's PostgreSqlBuilder and Aspire.Hosting.PostgreSQL's
# AddPostgres can run this image as one plain PostgreSQL 17: no Patroni, no etcd, no replica.
# The patroni entrypoint execs this when POSTGRES_PASSWORD is set and PATRONI_NAME is not.
# With the ISHCHAT_* role variables (containers/patroni/README.md) the first start also creates
# the IshChat database and roles, exactly as Patroni's post_bootstrap does on a cluster.
set -euo pipefail

die() { printf 'ishchat-single-postgres: error: %s\n' "$*" >&2; exit 64; }
log() { printf 'ishchat-single-postgres: %s\n' "$*" >&2; }

[[ -n ${POSTGRES_PASSWORD:-} ]] || die "POSTGRES_PASSWORD is required (the superuser's password)"
[[ $POSTGRES_PASSWORD != *[[:cntrl:]]* ]] || die "POSTGRES_PASSWORD must not contain control characters"
export POSTGRES_USER="${POSTGRES_USER:-postgres}"
export POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
auth_method="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
[[ $auth_method =~ ^(scram-sha-256|md5|password|trust|reject)$ ]] \
  || die "POSTGRES_HOST_AUTH_METHOD='$auth_method' is not one of scram-sha-256, md5, password, trust, reject"

# The IshChat roles are all or nothing: post-bootstrap.sql creates every one of them.
role_passwords=(ISHCHAT_APP_PASSWORD ISHCHAT_ADMIN_PASSWORD ISHCHAT_IMPORTER_PASSWORD ISHCHAT_MIGRATOR_PASSWORD ISHCHAT_MONITOR_PASSWORD ISHCHAT_PGBOUNCER_AUTH_PASSWORD)
given=0
for var in "${role_passwords[@]}"; do [[ -z ${!var:-} ]] || given=$((given + 1)); done
((given == 0 || given == ${#role_passwords[@]})) \
  || die "set all of ${role_passwords[*]} (to create the IshChat roles) or none of them"

data=/var/lib/postgresql/data
[[ -d $data ]] || mkdir -p "$data" 2>/dev/null || die "cannot create $data as $(id -un); mount it writable for uid $(id -u)"
[[ -O $data ]] || die "$data must be owned by $(id -un) (uid $(id -u)), not $(stat -c '%U:%G (uid %u)' "$data")"
chmod 0700 "$data"

# The server parameters of patroni.yml.tmpl's bootstrap.dcs.postgresql.parameters, so a single server
# and a cluster member behave alike; arguments given to the container come after and win.
# The libraries post-bootstrap.sql creates extensions of (pgaudit, pg_cron) must be loaded already
# when it runs, so the first start's socket-only server gets them too.
preload=(-c shared_preload_libraries=pg_stat_statements,pgaudit,pg_cron
         -c "cron.database_name=${ISHCHAT_DATABASE:-$POSTGRES_DB}" -c cron.host=/var/run/postgresql
         -c "pgaudit.log=ddl, role" -c pgaudit.log_catalog=off -c pgaudit.log_relation=on -c pgaudit.log_parameter=off
         -c "log_line_prefix=%m [%p] user=%u db=%d app=%a ")
settings=(-c listen_addresses='*' -c max_connections=200 -c shared_buffers=128MB -c wal_level=replica
          -c password_encryption=scram-sha-256 "${preload[@]}"
          -c track_io_timing=on -c unix_socket_directories=/var/run/postgresql)
# The official image accepts "postgres -c …" as well as "-c …".
[[ ${1:-} != postgres ]] || shift

if [[ ! -s $data/PG_VERSION ]]; then
  log "initialising $data (superuser $POSTGRES_USER, database $POSTGRES_DB)"
  pwfile=$(mktemp)
  trap 'rm -f "$pwfile"' EXIT
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  # initdb's options as Patroni's (UTF8, C.UTF-8, checksums); POSTGRES_INITDB_ARGS come last and win.
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of options, split on purpose.
  initdb -D "$data" -U "$POSTGRES_USER" --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 --data-checksums \
    --auth-local=trust --auth-host="$auth_method" ${POSTGRES_INITDB_ARGS:-} >/dev/null
  rm -f "$pwfile"
  printf 'host all all all %s\n' "$auth_method" >>"$data/pg_hba.conf"

  # A server on the socket only, so nothing outside (pg_isready --host localhost included) sees it
  # before the database, roles and init scripts exist.
  pg_ctl -D "$data" -w -o "-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql ${preload[*]@Q}" start >/dev/null
  export PGPASSWORD="$POSTGRES_PASSWORD" PGHOST=/var/run/postgresql PGUSER="$POSTGRES_USER"
  psql -d postgres --no-psqlrc --quiet --set ON_ERROR_STOP=1 --set db="$POSTGRES_DB" <<'SQL'
SELECT format('CREATE DATABASE %I', :'db') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SQL
  if ((given > 0)); then
    PATRONI_SUPERUSER_USERNAME="$POSTGRES_USER" ishchat-post-bootstrap "postgresql:///postgres?host=/var/run/postgresql&user=$POSTGRES_USER"
  fi
  for script in /docker-entrypoint-initdb.d/*; do
    case $script in
      *.sh) log "running $script"; bash "$script" ;;
      *.sql) log "running $script"; psql -d "$POSTGRES_DB" --no-psqlrc --set ON_ERROR_STOP=1 -f "$script" ;;
      *.sql.gz) log "running $script"; gunzip -c "$script" | psql -d "$POSTGRES_DB" --no-psqlrc --set ON_ERROR_STOP=1 ;;
      *) [[ ! -e $script ]] || log "ignoring $script" ;;
    esac
  done
  unset PGPASSWORD PGHOST PGUSER
  pg_ctl -D "$data" -m fast -w stop >/dev/null
  log "initialised"
fi

log "starting PostgreSQL (single server, no Patroni)"
exec postgres -D "$data" "${settings[@]}" "$@"
