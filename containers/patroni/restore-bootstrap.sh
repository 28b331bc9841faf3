#!/usr/bin/env bash
# Patroni custom bootstrap ("pgbackrest" method) of ishchat/patroni: makes a new cluster from
# the backup repository instead of initdb. Patroni runs it on the one member that wins the
# bootstrap race, with an empty data directory; it restores the newest backup that ends
# before the target and writes the recovery settings (restore_command = archive-get, the
# target, target action "promote"). Patroni then starts PostgreSQL, which replays archived
# WAL up to the target and promotes; post_bootstrap clears the target afterwards.
#
# ISHCHAT_RESTORE_TYPE: latest (end of the archive) | time | lsn | name | immediate
# ISHCHAT_RESTORE_TARGET: the time ("2026-11-25 11:42:07.123+00"), LSN ("0/3000060") or
#   restore point name (pg_create_restore_point) for time, lsn and name
# ISHCHAT_RESTORE_SET: optional backup label to restore from (default: chosen by pgBackRest)
set -euo pipefail

die() { printf 'ishchat-restore-bootstrap: error: %s\n' "$*" >&2; exit 1; }

stanza="${ISHCHAT_BACKUP_STANZA:?the entrypoint exports ISHCHAT_BACKUP_STANZA}"
type="${ISHCHAT_RESTORE_TYPE:-latest}"
args=(--stanza="$stanza")
case $type in
  # Without a target PostgreSQL replays all archived WAL and then promotes by itself.
  latest) args+=(--type=default) ;;
  immediate) args+=(--type=immediate --target-action=promote) ;;
  time | lsn | name)
    [[ -n ${ISHCHAT_RESTORE_TARGET:-} ]] || die "ISHCHAT_RESTORE_TYPE=$type needs ISHCHAT_RESTORE_TARGET"
    args+=(--type="$type" --target="$ISHCHAT_RESTORE_TARGET" --target-action=promote) ;;
  *) die "ISHCHAT_RESTORE_TYPE='$type' must be latest, time, lsn, name or immediate" ;;
esac
[[ -z ${ISHCHAT_RESTORE_SET:-} ]] || args+=(--set="$ISHCHAT_RESTORE_SET")
# Patroni hands over an empty data directory; delta (on in pgbackrest.conf, for re-cloned
# replicas) would only warn that it cannot find one to compare against.
[[ -e /var/lib/postgresql/data/PG_VERSION ]] || args+=(--no-delta)

echo "ishchat-restore-bootstrap: restoring stanza '$stanza' (${type}${ISHCHAT_RESTORE_TARGET:+ $ISHCHAT_RESTORE_TARGET})" >&2
start=$(date +%s.%N)
pgbackrest "${args[@]}" restore
echo "ishchat-restore-bootstrap: files restored in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s; PostgreSQL now replays WAL to the target" >&2
