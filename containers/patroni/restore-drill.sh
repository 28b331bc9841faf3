#!/usr/bin/env bash
# The restore drill's work inside a throwaway ishchat/patroni container (no Patroni, no
# etcd, never archives): restores the newest backup of ISHCHAT_BACKUP_STANZA with the WAL
# up to restore point $1 (pg_create_restore_point on the live leader), starts PostgreSQL,
# and checks what a real restore would need: it reaches a consistent state, it recovers to
# exactly that restore point and promotes, and pg_amcheck finds no corruption in any
# database's tables and indexes. PostgreSQL is left running (socket only) so the caller can
# compare row counts with the live cluster's; the caller removes the container.
#
# Usage: ishchat-restore-drill <restore point name>
# Needs the repository's ISHCHAT_BACKUP_* variables (render-pgbackrest-config --standalone).
# Prints progress (pgBackRest's restore at every 10 %, then each step), among them
#   ishchat-restore-drill: promoted at <lsn> after <seconds> s   (the measured RTO)
# Exits 0 when every check passed, 1 with the reason (and PostgreSQL's log) otherwise.
set -euo pipefail

data=/var/lib/postgresql/data
log=/tmp/restore-drill-postgres.log
socket=/var/run/postgresql
say() { printf 'ishchat-restore-drill: %s\n' "$*"; }
die() {
  printf 'ishchat-restore-drill: FAILED: %s\n' "$*" >&2
  [[ ! -s $log ]] || { echo "--- PostgreSQL log (last 30 lines)" >&2; tail -n 30 "$log" >&2; }
  exit 1
}
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

point=${1:?usage: ishchat-restore-drill <restore point name>}
[[ $point =~ ^[A-Za-z0-9_.:-]{1,63}$ ]] || die "restore point '$point' must be 1-63 letters, digits, '_', '.', ':', '-'"
stanza=${ISHCHAT_BACKUP_STANZA:?ISHCHAT_BACKUP_STANZA names the stanza to restore}
[[ -z $(ls -A "$data") ]] || die "$data is not empty: a drill restores into a fresh container only"

/usr/local/lib/ishchat/render-pgbackrest-config --standalone || die "the repository settings are invalid (see above)"

started=$(date +%s.%N)
say "restoring the newest backup of stanza '$stanza', WAL up to restore point '$point'"
# detail logs one line per file with the share of bytes done so far: shown at every 10 %.
if ! pgbackrest --stanza="$stanza" --type=name --target="$point" --target-action=promote \
  --archive-mode=off --no-delta --log-level-console=detail restore 2>&1 \
  | awk '
      / DETAIL: restore file / {
        if (match($0, /, [0-9.]+%\)/)) {
          pct = substr($0, RSTART + 2, RLENGTH - 4) + 0
          if (pct >= next_step) { printf "ishchat-restore-drill: restore %3d %%\n", pct; fflush(); while (next_step <= pct) next_step += 10 }
        }
        next
      }
      / DETAIL: / { next }
      { print; fflush() }'; then
  die "pgbackrest restore failed (its output is above)"
fi
[[ -e $data/PG_VERSION ]] || die "pgbackrest restore left no data directory"
say "files restored in $(elapsed "$started") s; replaying WAL to '$point'"

# Socket only (so ssl=off: the copy's TLS settings name certificate files this container lacks);
# no synchronous standby to wait for (the live cluster's setting is in the copy); the log in one
# file the checks below read.
pg_ctl -D "$data" -w -t 3600 -l "$log" start -o "-c listen_addresses= -c unix_socket_directories=$socket \
  -c synchronous_standby_names= -c archive_mode=off -c ssl=off -c logging_collector=off -c log_destination=stderr" >/dev/null \
  || die "PostgreSQL did not start on the restored files"
until [[ $(psql -X -At -h "$socket" -d postgres -c 'SELECT pg_is_in_recovery()' 2>/dev/null) == f ]]; do
  pg_ctl -D "$data" status >/dev/null || die "PostgreSQL stopped during recovery (a WAL segment missing or damaged?)"
  sleep 0.2
done
grep -q 'consistent recovery state reached' "$log" || die "PostgreSQL never reported a consistent recovery state"
grep -q "recovery stopping at restore point \"$point\"" "$log" \
  || die "recovery did not stop at restore point '$point'"
recovered=$(psql -X -At -h "$socket" -d postgres -c 'SELECT pg_last_wal_replay_lsn()')
say "consistent, stopped at restore point '$point'"
# The measured RTO: files restored, WAL replayed, promoted (the caller parses this line).
say "promoted at $recovered after $(elapsed "$started") s"

say "pg_amcheck: every table and index of every database (amcheck installed where missing)"
pg_amcheck -h "$socket" --all --install-missing --heapallindexed 2>&1 \
  || die "pg_amcheck reported corruption or could not check (exit $?)"
say "passed in $(elapsed "$started") s"
