#!/usr/bin/env bash
# Backup part of ishchat/patroni's post_bootstrap (called by ishchat-post-bootstrap with the
# superuser connection URL as $1, only when a backup repository is configured).
#  - After a restore (ISHCHAT_RESTORE_TYPE set): forget the recovery target that pgBackRest
#    wrote into postgresql.auto.conf. Replicas copy that file from the leader, and a standby
#    that inherited "recovery_target_time" would stop replaying at it.
#  - Create the pgBackRest stanza (idempotent; a no-op on a restored cluster whose stanza
#    exists), so WAL archiving starts working without a manual step.
set -euo pipefail

stanza="${ISHCHAT_BACKUP_STANZA:?the entrypoint exports ISHCHAT_BACKUP_STANZA}"

if [[ ${ISHCHAT_RESTORE_TYPE:-none} != none ]]; then
  echo "ishchat-backup-post-bootstrap: clearing the restore's recovery settings" >&2
  psql "$1" --no-psqlrc --quiet --set ON_ERROR_STOP=1 <<'SQL'
ALTER SYSTEM RESET restore_command;
ALTER SYSTEM RESET recovery_target;
ALTER SYSTEM RESET recovery_target_time;
ALTER SYSTEM RESET recovery_target_lsn;
ALTER SYSTEM RESET recovery_target_name;
ALTER SYSTEM RESET recovery_target_xid;
ALTER SYSTEM RESET recovery_target_action;
ALTER SYSTEM RESET recovery_target_timeline;
ALTER SYSTEM RESET recovery_target_inclusive;
ALTER SYSTEM RESET archive_mode;
SQL
fi

if [[ ${ISHCHAT_BACKUP_ARCHIVE:-on} =~ ^(off|false|no|0)$ ]]; then
  echo "ishchat-backup-post-bootstrap: archiving is off (side restore): no stanza-create" >&2
  exit 0
fi

# The object store may still be starting; a cluster is still usable without its archive, so
# after a minute this gives up loudly (archiving then fails visibly in pg_stat_archiver until
# someone runs `pgbackrest --stanza=... stanza-create`) instead of failing the bootstrap.
for attempt in $(seq 1 12); do
  if output=$(pgbackrest --stanza="$stanza" --log-level-console=warn stanza-create 2>&1); then
    echo "ishchat-backup-post-bootstrap: stanza '$stanza' ready, WAL archiving on" >&2
    exit 0
  fi
  printf '%s\n' "$output" >&2
  # The stanza holds another PostgreSQL system's backups: this cluster was made new (initdb) while
  # the store kept an older cluster's. Retrying can't help; say what can.
  if [[ $output == *"do not match the database"* ]]; then
    echo "ishchat-backup-post-bootstrap: error: stanza '$stanza' in the backup store belongs to another PostgreSQL system (the cluster whose volumes were removed); this new cluster cannot archive into it. Either restore that cluster (eng/down.sh --cluster-volumes, then IshChat__Restore__Type=latest eng/run.sh) or also remove the backups (eng/down.sh --volumes). docs/backup.md" >&2
    exit 0
  fi
  echo "ishchat-backup-post-bootstrap: stanza-create failed (attempt $attempt/12), retrying in 5 s" >&2
  sleep 5
done
echo "ishchat-backup-post-bootstrap: error: could not create stanza '$stanza'; WAL archiving will fail until it exists" >&2
