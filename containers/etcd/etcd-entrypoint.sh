#!/usr/bin/env bash
# Entrypoint of ishchat/etcd. Turns the small IshChat contract (ETCD_NAME plus the
# member list ISHCHAT_ETCD_MEMBERS) into etcd's own ETCD_* settings for a statically
# bootstrapped cluster whose member names are also their DNS names on the docker
# network, then execs etcd so that tini hands SIGTERM straight to it.
#
# etcd is configured through environment variables rather than a --config-file
# because etcd ignores every ETCD_* variable once a config file is given; this way
# an operator can still add any ETCD_* setting (e.g. ETCD_LOG_LEVEL) at docker run.
set -euo pipefail

die() { printf 'etcd-entrypoint: error: %s\n' "$*" >&2; exit 64; }

[[ -n ${ETCD_NAME:-} ]] \
  || die "ETCD_NAME is required: this member's name, which must also be its DNS name (e.g. etcd-0)"
[[ -n ${ISHCHAT_ETCD_MEMBERS:-} ]] \
  || die "ISHCHAT_ETCD_MEMBERS is required: comma-separated member names (e.g. etcd-0,etcd-1,etcd-2)"

hostname_re='^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$'
[[ $ETCD_NAME =~ $hostname_re ]] || die "ETCD_NAME '$ETCD_NAME' is not a valid host name"

IFS=',' read -r -a members <<<"$ISHCHAT_ETCD_MEMBERS"
declare -A seen=()
initial_cluster=""
for m in "${members[@]}"; do
  m="${m//[[:space:]]/}"
  [[ -n $m ]] || continue
  [[ $m =~ $hostname_re ]] || die "ISHCHAT_ETCD_MEMBERS entry '$m' is not a valid host name"
  [[ -z ${seen[$m]:-} ]] || die "ISHCHAT_ETCD_MEMBERS lists '$m' twice"
  seen[$m]=1
  initial_cluster+="${initial_cluster:+,}$m=https://$m:2380"
done
[[ -n ${seen[$ETCD_NAME]:-} ]] \
  || die "ETCD_NAME '$ETCD_NAME' is not one of ISHCHAT_ETCD_MEMBERS ($ISHCHAT_ETCD_MEMBERS)"

export ETCD_NAME
export ETCD_DATA_DIR=/var/lib/etcd/data
export ETCD_INITIAL_CLUSTER="$initial_cluster"
export ETCD_INITIAL_CLUSTER_TOKEN="${ISHCHAT_ETCD_CLUSTER_TOKEN:-ishchat-etcd}"
# "new" is safe on restarts too: etcd ignores the ETCD_INITIAL_* settings once the
# data dir holds a member, so a restarted container rejoins with its old identity.
export ETCD_INITIAL_CLUSTER_STATE=new
export ETCD_INITIAL_ADVERTISE_PEER_URLS="https://$ETCD_NAME:2380"
export ETCD_ADVERTISE_CLIENT_URLS="https://$ETCD_NAME:2379"
export ETCD_LISTEN_PEER_URLS="https://0.0.0.0:2380"
export ETCD_LISTEN_CLIENT_URLS="https://0.0.0.0:2379"
# TLS both ways, and only for holders of a certificate the cluster CA issued (docs/security.md):
# whoever reaches :2379 without one can't read or rewrite Patroni's leader key or /config, and a
# stranger can't join as a peer. One certificate serves both ports (it names this member and is
# good for server and client use). /metrics and /health, which hold no secret, get their own
# plain port for Prometheus.
tls=/etc/ishchat/tls
for file in ca.crt server.crt server.key; do
  [[ -r $tls/$file ]] || die "$tls/$file is missing or unreadable for $(id -un): mount the cluster CA's certificate, this member's certificate and its key there (containers/etcd/README.md)"
done
export ETCD_CERT_FILE=$tls/server.crt ETCD_KEY_FILE=$tls/server.key ETCD_TRUSTED_CA_FILE=$tls/ca.crt
export ETCD_CLIENT_CERT_AUTH=true
export ETCD_PEER_CERT_FILE=$tls/server.crt ETCD_PEER_KEY_FILE=$tls/server.key ETCD_PEER_TRUSTED_CA_FILE=$tls/ca.crt
export ETCD_PEER_CLIENT_CERT_AUTH=true
export ETCD_LISTEN_METRICS_URLS="http://0.0.0.0:2381"
# Patroni rewrites its leader key every loop_wait (2 s), so revisions pile up fast;
# without compaction the backend grows until the 2 GiB quota raises a NOSPACE alarm
# and the DCS turns read-only. Overridable because these are etcd's own variables.
export ETCD_AUTO_COMPACTION_MODE="${ETCD_AUTO_COMPACTION_MODE:-periodic}"
export ETCD_AUTO_COMPACTION_RETENTION="${ETCD_AUTO_COMPACTION_RETENTION:-1h}"

# A volume mounted over the data dir may arrive root-owned; say so instead of letting
# etcd die with a bare "permission denied".
[[ -d $ETCD_DATA_DIR ]] || mkdir -p "$ETCD_DATA_DIR" 2>/dev/null \
  || die "cannot create $ETCD_DATA_DIR as $(id -un); mount it writable for uid $(id -u)"
[[ -w $ETCD_DATA_DIR ]] \
  || die "$ETCD_DATA_DIR is not writable by $(id -un) (uid $(id -u)); owner is $(stat -c %U:%G "$ETCD_DATA_DIR")"
# etcd warns (and 3.6 refuses) when the data dir is group/world accessible.
chmod 0700 "$ETCD_DATA_DIR" 2>/dev/null || true

# With the data dir on a volume (the AppHost's), a restarted member finds its old data: etcd then
# ignores ETCD_INITIAL_* and rejoins with its old member id and the keys (Patroni's) it had.
# The marker says the member was made with https peer URLs: membership keeps the peer URLs a
# member joined with, so one made before TLS would be dialled over plain HTTP by the others.
tls_marker=/var/lib/etcd/peers-use-tls
if [[ -d $ETCD_DATA_DIR/member ]]; then
  [[ -e $tls_marker ]] \
    || die "$ETCD_DATA_DIR holds a member made before etcd used TLS (its peer URLs are http://): wipe the cluster's volumes once (eng/down.sh --volumes) and start again"
  echo "etcd-entrypoint: $ETCD_DATA_DIR holds member data: rejoining with it (ETCD_INITIAL_* ignored)" >&2
else
  echo "etcd-entrypoint: $ETCD_DATA_DIR is empty: bootstrapping this member" >&2
  touch "$tls_marker"
fi
echo "etcd-entrypoint: starting member $ETCD_NAME of cluster $ETCD_INITIAL_CLUSTER" >&2
exec /usr/bin/etcd "$@"
