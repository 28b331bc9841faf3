#!/usr/bin/env bash
# Entrypoint of ishchat/prometheus. Renders /run/prometheus/prometheus.yml with one scrape job
# per ISHCHAT_SCRAPE_* variable that is set (comma lists of host:port), checks it with
# promtool, then execs Prometheus so that tini hands SIGTERM straight to it.
# Job names are fixed: the alert rules and Grafana's dashboards select on them.
set -euo pipefail

die() { printf 'prometheus-entrypoint: error: %s\n' "$*" >&2; exit 64; }

export ISHCHAT_PROMETHEUS_SCRAPE_INTERVAL="${ISHCHAT_PROMETHEUS_SCRAPE_INTERVAL:-5s}"
export ISHCHAT_PROMETHEUS_RETENTION="${ISHCHAT_PROMETHEUS_RETENTION:-2d}"
for var in ISHCHAT_PROMETHEUS_SCRAPE_INTERVAL ISHCHAT_PROMETHEUS_RETENTION; do
  [[ ${!var} =~ ^[0-9]+(ms|s|m|h|d)$ ]] || die "$var='${!var}' is not a duration such as 5s or 2d"
done

target_re='^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:[0-9]{1,5}$'

# Prints a YAML flow list of the host:port entries in $2, validating each.
targets() {
  local var=$1 list=$2 entry out=''
  IFS=',' read -r -a entries <<<"$list"
  for entry in "${entries[@]}"; do
    entry="${entry//[[:space:]]/}"
    [[ -n $entry ]] || continue
    [[ $entry =~ $target_re ]] || die "$var entry '$entry' is not host:port"
    out+="${out:+, }'$entry'"
  done
  [[ -n $out ]] || die "$var ('$list') names no target"
  printf '[%s]' "$out"
}

# The instance label is the bare host name (pg-0, etcd-1, haproxy): what operators call them.
instance_from_host='
    relabel_configs:
      - source_labels: [__address__]
        regex: "([^:]+):[0-9]+"
        target_label: instance'

# Targets that come and go while Prometheus runs (a spare Patroni node started or removed by the
# app host): file_sd/<job>/*.json beside the static list, re-read every 5 s. An absent or empty
# directory is no error, so a node slot that is not running is simply not scraped (no alert).
live_targets() { # job name
  printf '    file_sd_configs:\n      - files: [%s/%s/*.json]\n        refresh_interval: 5s\n' "$file_sd" "$1"
}
file_sd=/etc/prometheus/file_sd

# Targets that serve HTTPS with a certificate from the cluster CA (Patroni's REST API) are verified
# against it, by the name scraped (pg-N); its certificate is a file handed in at container creation.
cluster_ca=/etc/ishchat/tls/ca.crt
https_job() { # job name
  [[ -r $cluster_ca ]] || die "$cluster_ca is missing: the job $1 scrapes over HTTPS and verifies its targets with the cluster CA's certificate there"
  printf '    scheme: https\n    tls_config:\n      ca_file: %s\n' "$cluster_ca"
}

static_job() { # job name, variable name, metrics path, "live" to also read file_sd/<job>/, "https" for the cluster CA's TLS
  local job=$1 var=$2 path=${3:-/metrics} live=${4:-} scheme=${5:-http}
  [[ -n ${!var:-} ]] || return 0
  printf '  - job_name: %s\n    metrics_path: %s\n' "$job" "$path"
  [[ $scheme != https ]] || https_job "$job"
  printf '    static_configs:\n      - targets: %s\n' "$(targets "$var" "${!var}")"
  [[ -z $live ]] || live_targets "$job"
  printf '%s\n' "${instance_from_host#$'\n'}"
}

postgres_job() {
  [[ -n ${ISHCHAT_SCRAPE_POSTGRES:-} ]] || return 0
  [[ ${ISHCHAT_POSTGRES_EXPORTER:-} =~ $target_re ]] \
    || die "ISHCHAT_POSTGRES_EXPORTER='${ISHCHAT_POSTGRES_EXPORTER:-}' must be the exporter's host:port when ISHCHAT_SCRAPE_POSTGRES is set"
  # Multi-target: each node is a ?target= for the one exporter, labelled with the node's name.
  cat <<YAML
  - job_name: postgres
    metrics_path: /probe
    params:
      auth_module: [ishchat]
    static_configs:
      - targets: $(targets ISHCHAT_SCRAPE_POSTGRES "$ISHCHAT_SCRAPE_POSTGRES")
$(live_targets postgres)
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__address__]
        regex: "([^:]+):[0-9]+"
        target_label: instance
      - target_label: __address__
        replacement: '$ISHCHAT_POSTGRES_EXPORTER'
YAML
}

alerting() {
  [[ -n ${ISHCHAT_PROMETHEUS_ALERTMANAGER:-} ]] || return 0
  printf 'alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: %s\n' \
    "$(targets ISHCHAT_PROMETHEUS_ALERTMANAGER "$ISHCHAT_PROMETHEUS_ALERTMANAGER")"
}

cfg=/run/prometheus/prometheus.yml
{
  cat <<YAML
# Rendered at start by prometheus-entrypoint from ISHCHAT_SCRAPE_* variables.
global:
  scrape_interval: $ISHCHAT_PROMETHEUS_SCRAPE_INTERVAL
  evaluation_interval: $ISHCHAT_PROMETHEUS_SCRAPE_INTERVAL
  scrape_timeout: $ISHCHAT_PROMETHEUS_SCRAPE_INTERVAL
  external_labels:
    cluster: ishchat
rule_files:
  - /etc/prometheus/rules/*.yml
YAML
  alerting
  echo 'scrape_configs:'
  cat <<'YAML'
  # The API runs on the host, possibly as several replicas whose ports change at every start:
  # the app host writes their targets (one per replica, labelled instance=<replica>) here.
  - job_name: api
    file_sd_configs:
      - files: [/etc/prometheus/file_sd/*.json]
        refresh_interval: 5s
YAML
  static_job patroni ISHCHAT_SCRAPE_PATRONI /metrics live https
  postgres_job
  static_job etcd ISHCHAT_SCRAPE_ETCD
  static_job haproxy ISHCHAT_SCRAPE_HAPROXY
  static_job pgbouncer ISHCHAT_SCRAPE_PGBOUNCER_EXPORTER
  static_job redis ISHCHAT_SCRAPE_REDIS_EXPORTER
  static_job node ISHCHAT_SCRAPE_NODE_EXPORTER
  static_job pgbackrest ISHCHAT_SCRAPE_PGBACKREST_EXPORTER
  static_job prometheus ISHCHAT_SCRAPE_PROMETHEUS
  static_job alertmanager ISHCHAT_SCRAPE_ALERTMANAGER
} >"$cfg.tmp"
mv "$cfg.tmp" "$cfg"

promtool check config --syntax-only "$cfg" >/dev/null || die "rendered $cfg is invalid (see the messages above)"

echo "prometheus-entrypoint: scrape jobs: $(grep -Po '(?<=job_name: )\S+' "$cfg" | paste -sd' ')" >&2
exec /usr/bin/prometheus \
  --config.file="$cfg" \
  --storage.tsdb.path=/var/lib/prometheus/data \
  --storage.tsdb.retention.time="$ISHCHAT_PROMETHEUS_RETENTION" \
  --web.listen-address=:9090 \
  --web.enable-lifecycle \
  "$@"
