#!/usr/bin/env bash
# Entrypoint of ishchat/pgbouncer. Checks the environment contract, renders
# /run/pgbouncer/pgbouncer.ini from the template and writes the auth_file (0600,
# holding only the auth user's password), then execs PgBouncer in the foreground so
# that tini hands SIGTERM/SIGINT straight to it.
set -euo pipefail

die() { printf 'pgbouncer-entrypoint: error: %s\n' "$*" >&2; exit 64; }

[[ -n ${ISHCHAT_PGBOUNCER_AUTH_USER:-} ]] \
  || die "ISHCHAT_PGBOUNCER_AUTH_USER is required: the role PgBouncer uses for auth_query"
[[ -n ${ISHCHAT_PGBOUNCER_AUTH_PASSWORD:-} ]] \
  || die "ISHCHAT_PGBOUNCER_AUTH_PASSWORD is required: the password of ISHCHAT_PGBOUNCER_AUTH_USER"
[[ -n ${ISHCHAT_PGBOUNCER_STATS_USER:-} ]] \
  || die "ISHCHAT_PGBOUNCER_STATS_USER is required: PgBouncer's console user for SHOW commands (the exporter)"
[[ -n ${ISHCHAT_PGBOUNCER_STATS_PASSWORD:-} ]] \
  || die "ISHCHAT_PGBOUNCER_STATS_PASSWORD is required: the password of ISHCHAT_PGBOUNCER_STATS_USER"
[[ $ISHCHAT_PGBOUNCER_STATS_USER != "$ISHCHAT_PGBOUNCER_AUTH_USER" ]] \
  || die "ISHCHAT_PGBOUNCER_STATS_USER must differ from the auth user: the auth user only looks up passwords"

export ISHCHAT_PGBOUNCER_UPSTREAM_HOST="${ISHCHAT_PGBOUNCER_UPSTREAM_HOST:-haproxy}"
export ISHCHAT_PGBOUNCER_RW_PORT="${ISHCHAT_PGBOUNCER_RW_PORT:-5000}"
export ISHCHAT_PGBOUNCER_RO_PORT="${ISHCHAT_PGBOUNCER_RO_PORT:-5001}"
export ISHCHAT_DATABASE="${ISHCHAT_DATABASE:-ishchat}"
# The read-only entry's name comes from the cluster's definition (PgBouncerDatabases.ReadOnly).
export ISHCHAT_PGBOUNCER_RO_DATABASE="${ISHCHAT_PGBOUNCER_RO_DATABASE:-${ISHCHAT_DATABASE}_ro}"
export ISHCHAT_PGBOUNCER_DEFAULT_POOL_SIZE="${ISHCHAT_PGBOUNCER_DEFAULT_POOL_SIZE:-20}"
export ISHCHAT_PGBOUNCER_MAX_DB_CONNECTIONS="${ISHCHAT_PGBOUNCER_MAX_DB_CONNECTIONS:-100}"
export ISHCHAT_PGBOUNCER_MAX_CLIENT_CONN="${ISHCHAT_PGBOUNCER_MAX_CLIENT_CONN:-1000}"
# type:connections,… — one read-write and one read-only entry per instance type, capped at that many
# server connections each (PgBouncerSettings.InstancePools). Empty: no per-type entries.
export ISHCHAT_PGBOUNCER_INSTANCE_POOLS="${ISHCHAT_PGBOUNCER_INSTANCE_POOLS-trial:4,standard:10,enterprise:16}"

# Values go into an ini file unquoted, so only accept shapes that cannot smuggle in
# a ';', '=' or newline.
ident_re='^[A-Za-z_][A-Za-z0-9_]{0,62}$'
hostname_re='^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$'
for var in ISHCHAT_DATABASE ISHCHAT_PGBOUNCER_RO_DATABASE ISHCHAT_PGBOUNCER_AUTH_USER ISHCHAT_PGBOUNCER_STATS_USER; do
  [[ ${!var} =~ $ident_re ]] \
    || die "$var='${!var}' must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63 chars)"
done
# A comma list: PgBouncer spreads new server connections over the hosts (every HAProxy instance).
IFS=, read -r -a upstream_hosts <<<"$ISHCHAT_PGBOUNCER_UPSTREAM_HOST"
((${#upstream_hosts[@]} > 0)) || die "ISHCHAT_PGBOUNCER_UPSTREAM_HOST is empty"
for host in "${upstream_hosts[@]}"; do
  [[ $host =~ $hostname_re ]] \
    || die "ISHCHAT_PGBOUNCER_UPSTREAM_HOST='$ISHCHAT_PGBOUNCER_UPSTREAM_HOST': '$host' is not a valid host name"
done
for var in ISHCHAT_PGBOUNCER_RW_PORT ISHCHAT_PGBOUNCER_RO_PORT; do
  [[ ${!var} =~ ^[1-9][0-9]{0,4}$ ]] && ((${!var} <= 65535)) \
    || die "$var='${!var}' is not a TCP port number"
done
for var in ISHCHAT_PGBOUNCER_DEFAULT_POOL_SIZE ISHCHAT_PGBOUNCER_MAX_DB_CONNECTIONS \
           ISHCHAT_PGBOUNCER_MAX_CLIENT_CONN; do
  [[ ${!var} =~ ^[1-9][0-9]*$ ]] || die "$var='${!var}' must be a positive integer"
done
instance_pool_entries=""
if [[ -n $ISHCHAT_PGBOUNCER_INSTANCE_POOLS ]]; then
  IFS=, read -r -a instance_pools <<<"$ISHCHAT_PGBOUNCER_INSTANCE_POOLS"
  for pool in "${instance_pools[@]}"; do
    [[ $pool =~ ^([a-z][a-z0-9_]{0,30}):([1-9][0-9]*)$ ]] \
      || die "ISHCHAT_PGBOUNCER_INSTANCE_POOLS='$ISHCHAT_PGBOUNCER_INSTANCE_POOLS': '$pool' is not type:connections (e.g. trial:4)"
    type=${BASH_REMATCH[1]} size=${BASH_REMATCH[2]}
    instance_pool_entries+="${ISHCHAT_DATABASE}_${type} = host=${ISHCHAT_PGBOUNCER_UPSTREAM_HOST} port=${ISHCHAT_PGBOUNCER_RW_PORT} dbname=${ISHCHAT_DATABASE} pool_size=${size} max_db_connections=${size}"$'\n'
    instance_pool_entries+="${ISHCHAT_PGBOUNCER_RO_DATABASE}_${type} = host=${ISHCHAT_PGBOUNCER_UPSTREAM_HOST} port=${ISHCHAT_PGBOUNCER_RO_PORT} dbname=${ISHCHAT_DATABASE} pool_size=${size} max_db_connections=${size}"$'\n'
  done
fi
export ISHCHAT_PGBOUNCER_INSTANCE_POOL_ENTRIES="$instance_pool_entries"

for var in ISHCHAT_PGBOUNCER_AUTH_PASSWORD ISHCHAT_PGBOUNCER_STATS_PASSWORD; do
  [[ ${!var} != *[[:cntrl:]]* ]] || die "$var must not contain control characters (newline, tab, ...)"
done

# TLS (docs/security.md): the certificate, its key and the CA arrive as files, never environment.
tls=/etc/ishchat/tls
for file in ca.crt server.crt server.key; do
  [[ -r $tls/$file ]] || die "$tls/$file is missing or unreadable for $(id -un): mount the cluster CA's certificate, this PgBouncer's certificate and its key there (containers/pgbouncer/README.md)"
done

dir=/run/pgbouncer
umask 077

# auth_file holds the auth user and the console's stats user; every database role is looked
# up with auth_query. Format: "name" "password", with any '"' inside a field doubled.
{
  printf '"%s" "%s"\n' \
    "${ISHCHAT_PGBOUNCER_AUTH_USER//\"/\"\"}" "${ISHCHAT_PGBOUNCER_AUTH_PASSWORD//\"/\"\"}" \
    "${ISHCHAT_PGBOUNCER_STATS_USER//\"/\"\"}" "${ISHCHAT_PGBOUNCER_STATS_PASSWORD//\"/\"\"}"
} >"$dir/userlist.txt.tmp"
mv "$dir/userlist.txt.tmp" "$dir/userlist.txt"

# Only the listed variables are substituted: the template's auth_query contains "$1".
envsubst '${ISHCHAT_DATABASE} ${ISHCHAT_PGBOUNCER_RO_DATABASE} ${ISHCHAT_PGBOUNCER_UPSTREAM_HOST} ${ISHCHAT_PGBOUNCER_RW_PORT}
          ${ISHCHAT_PGBOUNCER_RO_PORT} ${ISHCHAT_PGBOUNCER_AUTH_USER} ${ISHCHAT_PGBOUNCER_STATS_USER}
          ${ISHCHAT_PGBOUNCER_DEFAULT_POOL_SIZE} ${ISHCHAT_PGBOUNCER_MAX_DB_CONNECTIONS}
          ${ISHCHAT_PGBOUNCER_MAX_CLIENT_CONN} ${ISHCHAT_PGBOUNCER_INSTANCE_POOL_ENTRIES}' \
  </usr/local/share/ishchat/pgbouncer.ini.tmpl >"$dir/pgbouncer.ini.tmp"
mv "$dir/pgbouncer.ini.tmp" "$dir/pgbouncer.ini"

echo "pgbouncer-entrypoint: pooling ${ISHCHAT_DATABASE} (rw :$ISHCHAT_PGBOUNCER_RW_PORT), ${ISHCHAT_PGBOUNCER_RO_DATABASE} (ro :$ISHCHAT_PGBOUNCER_RO_PORT) via $ISHCHAT_PGBOUNCER_UPSTREAM_HOST; per instance type: ${ISHCHAT_PGBOUNCER_INSTANCE_POOLS:-none}" >&2
exec /usr/sbin/pgbouncer "$dir/pgbouncer.ini" "$@"
