#!/usr/bin/env bash
# Entrypoint of ishchat/haproxy. Renders /run/haproxy/haproxy.cfg from the template
# with one "server" line per Patroni node in ISHCHAT_PATRONI_NODES, checks it with
# `haproxy -c`, then execs HAProxy in master-worker mode in the foreground so that
# tini hands SIGTERM/SIGUSR2 straight to the master.
set -euo pipefail

die() { printf 'haproxy-entrypoint: error: %s\n' "$*" >&2; exit 64; }

[[ -n ${ISHCHAT_PATRONI_NODES:-} ]] \
  || die "ISHCHAT_PATRONI_NODES is required: comma-separated Patroni node names (e.g. pg-0,pg-1,pg-2)"
export ISHCHAT_PATRONI_PG_PORT="${ISHCHAT_PATRONI_PG_PORT:-5432}"
export ISHCHAT_PATRONI_REST_PORT="${ISHCHAT_PATRONI_REST_PORT:-8008}"

for var in ISHCHAT_PATRONI_PG_PORT ISHCHAT_PATRONI_REST_PORT; do
  [[ ${!var} =~ ^[0-9]+$ ]] && ((${!var} >= 1 && ${!var} <= 65535)) \
    || die "$var='${!var}' is not a TCP port number"
done

ca=/etc/ishchat/tls/ca.crt
[[ -r $ca ]] || die "$ca is missing: mount the cluster CA's certificate there (its health checks verify Patroni's REST API with it)"

hostname_re='^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$'
IFS=',' read -r -a nodes <<<"$ISHCHAT_PATRONI_NODES"
declare -A seen=()
ordered=()
primary_servers="" replica_servers=""
for node in "${nodes[@]}"; do
  node="${node//[[:space:]]/}"
  [[ -n $node ]] || continue
  [[ $node =~ $hostname_re ]] || die "ISHCHAT_PATRONI_NODES entry '$node' is not a valid host name"
  [[ -z ${seen[$node]:-} ]] || die "ISHCHAT_PATRONI_NODES lists '$node' twice"
  seen[$node]=1
  ordered+=("$node")
  # init-addr last,libc,none: start even if the node's name does not resolve yet
  # (the server then waits in maintenance until the resolvers find it).
  # resolve-prefer ipv4: Docker's networks here are IPv4, skip useless AAAA lookups.
  # The checks ask Patroni's REST API over HTTPS and accept only the node's own certificate from
  # the cluster CA (docs/security.md); the database traffic itself stays TCP pass-through.
  line="    server $node $node:$ISHCHAT_PATRONI_PG_PORT check port $ISHCHAT_PATRONI_REST_PORT"
  line+=" check-ssl verify required ca-file $ca check-sni $node verifyhost $node"
  line+=" resolvers docker resolve-prefer ipv4 init-addr last,libc,none"
  primary_servers+="$line"$'\n'
  replica_servers+="$line"$'\n'
done
((${#ordered[@]} > 0)) || die "ISHCHAT_PATRONI_NODES ('$ISHCHAT_PATRONI_NODES') names no node"
export ISHCHAT_PRIMARY_SERVERS="${primary_servers%$'\n'}"
export ISHCHAT_REPLICA_SERVERS="${replica_servers%$'\n'}"

cfg=/run/haproxy/haproxy.cfg
# Only the listed variables are substituted, so any other "$" in the template
# (HAProxy's own "${VAR}" syntax, for instance) is left alone.
envsubst '${ISHCHAT_PATRONI_REST_PORT} ${ISHCHAT_PRIMARY_SERVERS} ${ISHCHAT_REPLICA_SERVERS}' \
  </usr/local/share/ishchat/haproxy.cfg.tmpl >"$cfg.tmp"
mv "$cfg.tmp" "$cfg"

haproxy -c -q -f "$cfg" || die "rendered $cfg is invalid (see the messages above)"

echo "haproxy-entrypoint: routing to Patroni nodes: ${ordered[*]}" >&2
exec /usr/sbin/haproxy -W -db -f "$cfg" "$@"
