#!/usr/bin/env bash
# Patroni bootstrap.post_bootstrap hook of ishchat/patroni. Patroni runs it exactly
# once, on the member that ran initdb, passing a superuser connection URL as $1 and a
# PGPASSFILE holding that superuser's password. It creates the IshChat database,
# the application roles and PgBouncer's auth_query function (see post-bootstrap.sql).
#
# Nothing secret goes on a command line: the SQL script reads names and passwords
# from the environment with psql's \getenv and interpolates them as quoted literals
# and identifiers, so any password (quotes, spaces, backslashes) is safe.
# A non-zero exit makes Patroni discard the new cluster and retry the bootstrap.
set -euo pipefail

die() { printf 'ishchat-post-bootstrap: error: %s\n' "$*" >&2; exit 1; }

(($# >= 1)) && [[ -n $1 ]] || die "expected Patroni's superuser connection URL as the first argument"

for var in ISHCHAT_APP_PASSWORD ISHCHAT_ADMIN_PASSWORD ISHCHAT_IMPORTER_PASSWORD ISHCHAT_MIGRATOR_PASSWORD ISHCHAT_MONITOR_PASSWORD \
           ISHCHAT_PGBOUNCER_AUTH_PASSWORD; do
  [[ -n ${!var:-} ]] || die "$var is empty; the entrypoint should have refused to start"
done

# Defaults repeated from the entrypoint so the hook also works when run by hand.
export ISHCHAT_DATABASE="${ISHCHAT_DATABASE:-ishchat}"
export ISHCHAT_APP_USER="${ISHCHAT_APP_USER:-ishchat_app}"
export ISHCHAT_ADMIN_USER="${ISHCHAT_ADMIN_USER:-ishchat_admin}"
export ISHCHAT_IMPORTER_USER="${ISHCHAT_IMPORTER_USER:-ishchat_importer}"
export ISHCHAT_MIGRATOR_USER="${ISHCHAT_MIGRATOR_USER:-ishchat_migrator}"
export ISHCHAT_MONITOR_USER="${ISHCHAT_MONITOR_USER:-ishchat_monitor}"
export ISHCHAT_PGBOUNCER_AUTH_USER="${ISHCHAT_PGBOUNCER_AUTH_USER:-pgbouncer_auth}"
export PATRONI_REPLICATION_USERNAME="${PATRONI_REPLICATION_USERNAME:-replicator}"
export PATRONI_REWIND_USERNAME="${PATRONI_REWIND_USERNAME:-rewind_user}"

# Altering one of Patroni's own roles (e.g. app user = postgres) into a NOSUPERUSER
# login would break the cluster, so refuse name collisions outright.
declare -A owner=()
for var in PATRONI_SUPERUSER_USERNAME PATRONI_REPLICATION_USERNAME PATRONI_REWIND_USERNAME \
           ISHCHAT_APP_USER ISHCHAT_ADMIN_USER ISHCHAT_IMPORTER_USER ISHCHAT_MIGRATOR_USER ISHCHAT_MONITOR_USER ISHCHAT_PGBOUNCER_AUTH_USER; do
  name="${!var:-}"
  [[ -n $name ]] || continue
  [[ -z ${owner[$name]:-} ]] || die "$var and ${owner[$name]} name the same role '$name'"
  owner[$name]=$var
done

echo "ishchat-post-bootstrap: creating database '$ISHCHAT_DATABASE', roles and pgbouncer.get_auth" >&2
psql "$1" --no-psqlrc --quiet --set ON_ERROR_STOP=1 \
  --file /usr/local/share/ishchat/post-bootstrap.sql
echo "ishchat-post-bootstrap: done" >&2

if [[ ${ISHCHAT_BACKUP_REPO_TYPE:-none} != none ]]; then
  /usr/local/bin/ishchat-backup-post-bootstrap "$1"
fi
