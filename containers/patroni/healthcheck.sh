#!/usr/bin/env bash
# HEALTHCHECK of ishchat/patroni, for both modes of the entrypoint.
set -euo pipefail
if [[ -z ${PATRONI_NAME:-} && -n ${POSTGRES_PASSWORD:-} ]]; then
  exec pg_isready --quiet --host 127.0.0.1 --port 5432
fi
exec curl -fsS -o /dev/null --cacert /etc/ishchat/tls/ca.crt https://127.0.0.1:8008/liveness
