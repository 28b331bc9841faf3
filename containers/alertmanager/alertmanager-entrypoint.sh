#!/usr/bin/env bash
# Entrypoint of ishchat/alertmanager. Renders /run/alertmanager/alertmanager.yml: every alert
# goes to the "operators" receiver, which posts to ISHCHAT_ALERTMANAGER_WEBHOOK_URL when set
# (a chat or paging integration) and otherwise only holds the alerts for the UI and API.
set -euo pipefail

die() { printf 'alertmanager-entrypoint: error: %s\n' "$*" >&2; exit 64; }

export ISHCHAT_ALERTMANAGER_GROUP_WAIT="${ISHCHAT_ALERTMANAGER_GROUP_WAIT:-5s}"
export ISHCHAT_ALERTMANAGER_REPEAT_INTERVAL="${ISHCHAT_ALERTMANAGER_REPEAT_INTERVAL:-4h}"
for var in ISHCHAT_ALERTMANAGER_GROUP_WAIT ISHCHAT_ALERTMANAGER_REPEAT_INTERVAL; do
  [[ ${!var} =~ ^[0-9]+(ms|s|m|h|d)$ ]] || die "$var='${!var}' is not a duration such as 5s or 4h"
done
webhook=${ISHCHAT_ALERTMANAGER_WEBHOOK_URL:-}
[[ -z $webhook || $webhook =~ ^https?://[^[:space:]\"\\]+$ ]] \
  || die "ISHCHAT_ALERTMANAGER_WEBHOOK_URL='$webhook' is not an http(s) URL"

umask 077
cfg=/run/alertmanager/alertmanager.yml
{
  cat <<YAML
# Rendered at start by alertmanager-entrypoint.
route:
  receiver: operators
  # One notification per alert and instance: a lagging replica and a full disk are different pages.
  group_by: [alertname, instance]
  group_wait: $ISHCHAT_ALERTMANAGER_GROUP_WAIT
  group_interval: 1m
  repeat_interval: $ISHCHAT_ALERTMANAGER_REPEAT_INTERVAL
inhibit_rules:
  # Without a leader every replica "lags"; page for the cause, not the symptoms.
  - source_matchers: [alertname = PatroniNoLeader]
    target_matchers: [alertname = PostgresReplicationLagHigh]
receivers:
  - name: operators
YAML
  if [[ -n $webhook ]]; then
    printf '    webhook_configs:\n      - url: "%s"\n        send_resolved: true\n' "$webhook"
  fi
} >"$cfg.tmp"
mv "$cfg.tmp" "$cfg"

# --cluster.listen-address= turns gossip off: one Alertmanager, nothing to peer with.
exec /usr/bin/prometheus-alertmanager \
  --config.file="$cfg" \
  --storage.path=/var/lib/alertmanager \
  --web.listen-address=:9093 \
  --cluster.listen-address= \
  "$@"
