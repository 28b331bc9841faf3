#!/usr/bin/env bash
# 1,000 concurrent clients (issue 15, item 4; docs/performance.md): the bench starts the HA cluster itself (Testcontainers),
# runs 1,000 HTTP clients against the API (each its own device and session, post then read back, one HTTP connection
# each), then 1,000 direct PgBouncer clients (pgbench from a container on the cluster's network). It samples PgBouncer's
# SHOW POOLS every second: client connections vs the server connections they are multiplexed onto.
#   bench/clients.sh                                  # 1000 and 1000, 20 s measured after a 10 s warm-up
#   bench/clients.sh --clients 500 --pgbouncer-clients 500 --seconds 30
# Short on purpose: 1,000 clients on a 2-core machine is heavy. Arguments after the defaults override them.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bench/api.sh --self-hosted cluster --clients 1000 --pgbouncer-clients 1000 --seconds 20 --warmup 10 "$@"
