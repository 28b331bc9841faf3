#!/usr/bin/env bash
# ishchat-side-restore: a throwaway PostgreSQL restored from the backup repository, for reading
# what the database held at a point in time (per-instance restore, docs/backup.md). No Patroni,
# no etcd, never archives: it restores the newest backup before the target with
# ishchat-restore-bootstrap (same ISHCHAT_RESTORE_TYPE/_TARGET contract), replays archived WAL
# to the target, promotes, and serves on :5432 until the container is removed.
#
# Runs as the container's command (docker run --entrypoint /usr/bin/tini <patroni image> --
# /usr/local/bin/ishchat-side-restore) with a live node's ISHCHAT_BACKUP_* and PATRONI_NAME
# (the name its TLS certificate is made for). pgBackRest logs every restored file at "detail"
# (size and percentage done): the caller's progress. The marker lines below are what the
# caller waits for; keep them in step with IshChat.Cluster/InstanceRestore/SideRestore.cs.
set -euo pipefail

export ISHCHAT_BACKUP_STANZA="${ISHCHAT_BACKUP_STANZA:-${PATRONI_SCOPE:?ISHCHAT_BACKUP_STANZA or PATRONI_SCOPE is required}}"
[[ ${ISHCHAT_BACKUP_REPO_TYPE:-none} != none ]] \
  || { echo "ishchat-side-restore: error: ISHCHAT_BACKUP_REPO_TYPE is not set: no repository to restore from" >&2; exit 64; }

/usr/local/lib/ishchat/render-pgbackrest-config
PGBACKREST_LOG_LEVEL_CONSOLE=detail /usr/local/bin/ishchat-restore-bootstrap
echo "ishchat-side-restore: files restored; replaying WAL to the target"
# Whatever the live configuration says, this copy never archives, never waits for a
# synchronous standby, and needs no certificate files from outside its data directory. So no
# TLS either, and its own pg_hba (the restored one accepts only hostssl): SCRAM over plain TCP,
# which the caller publishes on 127.0.0.1 only (docs/security.md).
hba=/var/run/postgresql/side-restore-hba.conf
printf '%s\n' 'local all postgres peer' 'local all all scram-sha-256' 'host all all 0.0.0.0/0 scram-sha-256' 'host all all ::/0 scram-sha-256' >"$hba"
exec postgres -D /var/lib/postgresql/data \
  -c listen_addresses='*' -c port=5432 -c unix_socket_directories=/var/run/postgresql \
  -c archive_mode=off -c synchronous_standby_names= -c ssl=off -c hot_standby=on -c hba_file="$hba"
