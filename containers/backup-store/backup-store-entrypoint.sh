#!/usr/bin/env bash
# Entrypoint of ishchat/backup-store. Checks the environment contract, makes (once) a
# self-signed TLS certificate on the data volume, starts Azurite's blob service on :10000
# with its data under /var/lib/backup-store/data, and creates the configured container as
# soon as the server answers. Azurite is exec'd so tini hands SIGTERM straight to it.
set -euo pipefail

die() { printf 'backup-store-entrypoint: error: %s\n' "$*" >&2; exit 64; }

for var in ISHCHAT_BACKUP_STORE_ACCOUNT ISHCHAT_BACKUP_STORE_KEY; do
  [[ -n ${!var:-} ]] || die "missing required environment variable $var"
done
export ISHCHAT_BACKUP_STORE_CONTAINER="${ISHCHAT_BACKUP_STORE_CONTAINER:-ishchat-backups}"
export ISHCHAT_BACKUP_STORE_PORT=10000
hostnames="${ISHCHAT_BACKUP_STORE_HOSTNAMES:-backup-store}"

# Azure's own naming rules; anything else would only fail later, inside a client.
[[ $ISHCHAT_BACKUP_STORE_ACCOUNT =~ ^[a-z0-9]{3,24}$ ]] \
  || die "ISHCHAT_BACKUP_STORE_ACCOUNT='$ISHCHAT_BACKUP_STORE_ACCOUNT' must be 3-24 lowercase letters or digits"
[[ $ISHCHAT_BACKUP_STORE_CONTAINER =~ ^[a-z0-9]([a-z0-9-]{1,61}[a-z0-9])$ && $ISHCHAT_BACKUP_STORE_CONTAINER != *--* ]] \
  || die "ISHCHAT_BACKUP_STORE_CONTAINER='$ISHCHAT_BACKUP_STORE_CONTAINER' must be 3-63 lowercase letters, digits or single hyphens"
printf '%s' "$ISHCHAT_BACKUP_STORE_KEY" | base64 -d >/dev/null 2>&1 \
  || die "ISHCHAT_BACKUP_STORE_KEY must be base64 (an Azure account key, e.g. from: openssl rand -base64 64)"
[[ $hostnames =~ ^[A-Za-z0-9.-]+(,[A-Za-z0-9.-]+)*$ ]] \
  || die "ISHCHAT_BACKUP_STORE_HOSTNAMES='$hostnames' must be a comma list of DNS names"

base=/var/lib/backup-store
[[ -w $base ]] || die "$base must be writable by $(id -un) (uid $(id -u)); a mounted volume arrives as $(stat -c '%U (uid %u)' "$base")"
mkdir -p "$base/data" "$base/tls"
chmod 0700 "$base/data" "$base/tls"

# The certificate lives on the volume: it is made once, so a client that pinned it (instead of
# skipping verification) keeps working across restarts. Supply your own by placing cert.pem and
# key.pem there. Valid 10 years: an expired certificate on an archive target stops archiving.
cert="$base/tls/cert.pem" key="$base/tls/key.pem"
if [[ ! -s $cert || ! -s $key ]]; then
  san="DNS:localhost,IP:127.0.0.1"
  IFS=, read -ra names <<<"$hostnames"
  for name in "${names[@]}"; do san+=",DNS:$name"; done
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=${names[0]}" \
    -addext "subjectAltName=$san" -keyout "$key.tmp" -out "$cert.tmp" 2>/dev/null \
    || die "openssl could not make the TLS certificate"
  chmod 0600 "$key.tmp"
  mv "$key.tmp" "$key"
  mv "$cert.tmp" "$cert"
  echo "backup-store-entrypoint: made a self-signed TLS certificate for $san" >&2
fi

# Azurite's own variable for custom accounts ("name:key"); the well-known development account
# stays out of the picture because clients only ever get this one.
export AZURITE_ACCOUNTS="$ISHCHAT_BACKUP_STORE_ACCOUNT:$ISHCHAT_BACKUP_STORE_KEY"

rm -f /tmp/backup-store.ready
server_pid=$$
# Runs beside the server (which takes over this PID): waits until it answers, then makes the
# container. A store that cannot do that is useless, so a failure stops the server loudly.
(
  for _ in $(seq 1 300); do
    curl -ksS -o /dev/null "https://127.0.0.1:$ISHCHAT_BACKUP_STORE_PORT/" 2>/dev/null && break
    sleep 0.2
  done
  if node /usr/local/lib/ishchat/ensure-container.js; then
    touch /tmp/backup-store.ready
    echo "backup-store-entrypoint: ready: https://<host>:$ISHCHAT_BACKUP_STORE_PORT/$ISHCHAT_BACKUP_STORE_ACCOUNT/$ISHCHAT_BACKUP_STORE_CONTAINER" >&2
  else
    echo "backup-store-entrypoint: error: could not create container '$ISHCHAT_BACKUP_STORE_CONTAINER'; stopping" >&2
    kill -TERM "$server_pid"
  fi
) &

echo "backup-store-entrypoint: starting Azurite blob service on :$ISHCHAT_BACKUP_STORE_PORT, data in $base/data" >&2
# --loose: pgBackRest sends headers Azurite does not model; --skipApiVersionCheck: clients may use a
# newer x-ms-version than this Azurite knows. Access log off (--silent): one line per WAL segment.
exec azurite-blob --blobHost 0.0.0.0 --blobPort "$ISHCHAT_BACKUP_STORE_PORT" \
  --location "$base/data" --cert "$cert" --key "$key" \
  --disableTelemetry --skipApiVersionCheck --loose --silent
