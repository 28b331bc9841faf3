#!/usr/bin/env bash
# Entrypoint of ishchat/pgbouncer-exporter. Builds the connection string to PgBouncer's admin
# console (database "pgbouncer") from the environment and execs pgbouncer_exporter.
set -euo pipefail

die() { printf 'pgbouncer-exporter-entrypoint: error: %s\n' "$*" >&2; exit 64; }

export ISHCHAT_PGBOUNCER_HOST="${ISHCHAT_PGBOUNCER_HOST:-pgbouncer}"
export ISHCHAT_PGBOUNCER_PORT="${ISHCHAT_PGBOUNCER_PORT:-6432}"
[[ -n ${ISHCHAT_PGBOUNCER_STATS_USER:-} ]] \
  || die "ISHCHAT_PGBOUNCER_STATS_USER is required: a user in PgBouncer's stats_users"
[[ -n ${ISHCHAT_PGBOUNCER_STATS_PASSWORD:-} ]] \
  || die "ISHCHAT_PGBOUNCER_STATS_PASSWORD is required: the password of ISHCHAT_PGBOUNCER_STATS_USER"

[[ $ISHCHAT_PGBOUNCER_HOST =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] \
  || die "ISHCHAT_PGBOUNCER_HOST='$ISHCHAT_PGBOUNCER_HOST' is not a valid host name"
[[ $ISHCHAT_PGBOUNCER_PORT =~ ^[1-9][0-9]{0,4}$ ]] && ((ISHCHAT_PGBOUNCER_PORT <= 65535)) \
  || die "ISHCHAT_PGBOUNCER_PORT='$ISHCHAT_PGBOUNCER_PORT' is not a TCP port number"
[[ $ISHCHAT_PGBOUNCER_STATS_USER =~ ^[A-Za-z_][A-Za-z0-9_]{0,62}$ ]] \
  || die "ISHCHAT_PGBOUNCER_STATS_USER='$ISHCHAT_PGBOUNCER_STATS_USER' must be a plain identifier"

# Percent-encodes every byte outside RFC 3986's unreserved set, so any password fits in the URL.
urlencode() {
  local LC_ALL=C s=$1 out='' c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [A-Za-z0-9._~-]) out+=$c ;;
      *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}

# pgbouncer_exporter takes the connection string only as a flag; it stays inside this
# container's process table (nothing is written to disk or to the image).
exec /usr/bin/prometheus-pgbouncer-exporter \
  --web.listen-address=:9127 \
  --pgBouncer.pid-file= \
  --pgBouncer.connectionString="postgres://${ISHCHAT_PGBOUNCER_STATS_USER}:$(urlencode "$ISHCHAT_PGBOUNCER_STATS_PASSWORD")@${ISHCHAT_PGBOUNCER_HOST}:${ISHCHAT_PGBOUNCER_PORT}/pgbouncer?sslmode=disable&connect_timeout=3" \
  "$@"
