#!/usr/bin/env bash
# Patroni callback (on_start, on_role_change) of ishchat/patroni: on the primary, re-asserts
# every role's password from this container's environment. Passwords are Aspire parameters
# kept in user secrets while the data lives on volumes, so the two can part: a secret changed
# or regenerated (new machine, user secrets cleared) while the volumes hold the old cluster.
# Without this, replicas, PgBouncer and the API would fail to authenticate against the old
# passwords; with it, the environment is the one source of every password, on every start.
# Patroni calls it as: <script> <action> <role> <scope>. Only the primary can write; replicas
# receive the new secrets through replication.
set -euo pipefail

action=${1:-} role=${2:-} scope=${3:-}
case $role in
  primary|master) ;;
  *) exit 0 ;;
esac

log() { printf 'ishchat-reconcile-roles: %s\n' "$*" >&2; }
# Re-running post-bootstrap.sql notices every object that already exists; only warnings matter here.
export PGOPTIONS="-c client_min_messages=warning"
sql=(psql --no-psqlrc --quiet --set ON_ERROR_STOP=1 --host /var/run/postgresql --username postgres --dbname postgres)

# on_role_change fires as the promotion starts; writes are possible once recovery has ended.
for _ in $(seq 1 60); do
  [[ $("${sql[@]}" --tuples-only --no-align --command 'select pg_is_in_recovery()' 2>/dev/null) == f ]] && break
  sleep 1
done

log "$action as $role of $scope: re-asserting role passwords from the environment"
# Patroni removes PATRONI_* from its environment once read (so callbacks don't leak them); its
# own roles' names and passwords come from the configuration the entrypoint rendered from them.
authentication() {
  python3 -c 'import sys, yaml
print(yaml.safe_load(open("/etc/patroni/patroni.yml"))["postgresql"]["authentication"][sys.argv[1]][sys.argv[2]])' "$1" "$2"
}
for kind in superuser replication rewind; do
  upper=${kind^^}
  export "PATRONI_${upper}_USERNAME=$(authentication "$kind" username)"
  export "PATRONI_${upper}_PASSWORD=$(authentication "$kind" password)"
done
# Patroni's own roles (superuser, replication, rewind) first, then the application roles,
# database and PgBouncer function exactly as post_bootstrap made them (that script converges).
"${sql[@]}" <<'SQL'
\getenv superuser_name PATRONI_SUPERUSER_USERNAME
\getenv superuser_password PATRONI_SUPERUSER_PASSWORD
\getenv replication_name PATRONI_REPLICATION_USERNAME
\getenv replication_password PATRONI_REPLICATION_PASSWORD
\getenv rewind_name PATRONI_REWIND_USERNAME
\getenv rewind_password PATRONI_REWIND_PASSWORD
SET log_statement = 'none';
SET log_min_error_statement = 'panic';
SET password_encryption = 'scram-sha-256';
ALTER ROLE :"superuser_name" PASSWORD :'superuser_password';
ALTER ROLE :"replication_name" PASSWORD :'replication_password';
SELECT format('ALTER ROLE %I PASSWORD %L', :'rewind_name', :'rewind_password')
 WHERE EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'rewind_name') \gexec
SQL
"${sql[@]}" --file /usr/local/share/ishchat/post-bootstrap.sql
log "role passwords match the environment"
