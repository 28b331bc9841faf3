#!/usr/bin/env bash
# Entrypoint of ishchat/postgres-exporter. Writes the exporter's auth module (the monitoring
# role's credentials, 0600) and execs postgres_exporter in multi-target mode: Prometheus asks
# GET /probe?target=pg-0:5432&auth_module=ishchat for each node, so one exporter serves them all
# and a node that is down shows as pg_up 0 instead of a missing exporter.
set -euo pipefail

die() { printf 'postgres-exporter-entrypoint: error: %s\n' "$*" >&2; exit 64; }

export ISHCHAT_MONITOR_USER="${ISHCHAT_MONITOR_USER:-ishchat_monitor}"
export ISHCHAT_POSTGRES_EXPORTER_DATABASE="${ISHCHAT_POSTGRES_EXPORTER_DATABASE:-postgres}"
[[ -n ${ISHCHAT_MONITOR_PASSWORD:-} ]] \
  || die "ISHCHAT_MONITOR_PASSWORD is required: the password of ISHCHAT_MONITOR_USER (a member of pg_monitor)"

ident_re='^[A-Za-z_][A-Za-z0-9_]{0,62}$'
for var in ISHCHAT_MONITOR_USER ISHCHAT_POSTGRES_EXPORTER_DATABASE; do
  [[ ${!var} =~ $ident_re ]] || die "$var='${!var}' must be a plain identifier"
done
[[ $ISHCHAT_MONITOR_PASSWORD != *[[:cntrl:]]* ]] \
  || die "ISHCHAT_MONITOR_PASSWORD must not contain control characters"

# A YAML double-quoted scalar: only backslash and double quote need escaping.
yaml_quote() { local v=${1//\\/\\\\}; printf '"%s"' "${v//\"/\\\"}"; }

[[ -r /etc/ishchat/tls/ca.crt ]] || die "/etc/ishchat/tls/ca.crt is missing: mount the cluster CA's certificate there"

umask 077
cfg=/run/postgres-exporter/postgres_exporter.yml
cat >"$cfg.tmp" <<YAML
# Rendered at start by postgres-exporter-entrypoint; holds a password, mode 0600.
auth_modules:
  ishchat:
    type: userpass
    userpass:
      username: $(yaml_quote "$ISHCHAT_MONITOR_USER")
      password: $(yaml_quote "$ISHCHAT_MONITOR_PASSWORD")
    options:
      dbname: $(yaml_quote "$ISHCHAT_POSTGRES_EXPORTER_DATABASE")
      # TLS to every node, which must show a certificate the cluster CA signed for the name
      # probed (pg-N): docs/security.md.
      sslmode: verify-full
      sslrootcert: /etc/ishchat/tls/ca.crt
      connect_timeout: "3"
YAML
mv "$cfg.tmp" "$cfg"

# stat_statements: query performance (pg_stat_statements is preloaded on every node);
# long_running_transactions: the oldest open transaction, for the query-timeout alert.
exec /usr/bin/prometheus-postgres-exporter \
  --config.file="$cfg" \
  --web.listen-address=:9187 \
  --collector.stat_statements \
  --collector.long_running_transactions \
  --collector.postmaster \
  --collector.stat_wal_receiver \
  --no-collector.roles \
  --extend.query-path=/usr/local/share/ishchat/postgres-exporter-queries.yaml \
  "$@"
