#!/usr/bin/env bash
# Entrypoint of ishchat/pgbackrest-exporter: renders the repository's pgbackrest.conf from
# the ISHCHAT_BACKUP_* variables (render-pgbackrest-config --standalone), then execs the
# exporter for the one stanza the cluster archives into (the store also keeps earlier
# runs' stanzas, whose old backups must not raise "no backup in 26 h").
set -euo pipefail

die() { printf 'pgbackrest-exporter-entrypoint: error: %s\n' "$*" >&2; exit 64; }

[[ -n ${ISHCHAT_BACKUP_STANZA:-} ]] || die "ISHCHAT_BACKUP_STANZA is required: the stanza to report on"
interval="${ISHCHAT_PGBACKREST_EXPORTER_INTERVAL:-60}"
[[ $interval =~ ^[0-9]+$ && $interval -ge 10 ]] \
  || die "ISHCHAT_PGBACKREST_EXPORTER_INTERVAL='$interval' must be whole seconds >= 10 (each collection lists the repository)"

/usr/local/lib/ishchat/render-pgbackrest-config --standalone

exec /usr/bin/prometheus-pgbackrest-exporter \
  --web.listen-address=:9854 \
  --backrest.config=/etc/pgbackrest/pgbackrest.conf \
  --backrest.stanza-include="$ISHCHAT_BACKUP_STANZA" \
  --collect.interval="$interval" \
  "$@"
