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

# The password never goes on the command line (/proc/*/cmdline is readable by every process):
# the connection string names no password and the driver (lib/pq) reads PGPASSWORD from this
# process's own environment, which only its user and root can read.
export PGPASSWORD="$ISHCHAT_PGBOUNCER_STATS_PASSWORD"
unset ISHCHAT_PGBOUNCER_STATS_PASSWORD
# PgBouncer takes only TLS clients; the exporter verifies it is the PgBouncer the cluster CA
# signed for that name (docs/security.md). The CA's certificate arrives as a file.
[[ -r /etc/ishchat/tls/ca.crt ]] || die "/etc/ishchat/tls/ca.crt is missing: mount the cluster CA's certificate there"
exec /usr/bin/prometheus-pgbouncer-exporter \
  --web.listen-address=:9127 \
  --pgBouncer.pid-file= \
  --pgBouncer.connectionString="postgres://${ISHCHAT_PGBOUNCER_STATS_USER}@${ISHCHAT_PGBOUNCER_HOST}:${ISHCHAT_PGBOUNCER_PORT}/pgbouncer?sslmode=verify-full&sslrootcert=/etc/ishchat/tls/ca.crt&connect_timeout=3" \
  "$@"
