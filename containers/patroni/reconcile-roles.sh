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
sql=(psql --no-psqlrc --quiet --set ON_ERROR_STOP=1 --host /var/run/postgresql --username postgres --dbname postgres)

# on_role_change fires as the promotion starts; writes are possible once recovery has ended.
for _ in $(seq 1 60); do
  [[ $("${sql[@]}" --tuples-only --no-align --command 'select pg_is_in_recovery()' 2>/dev/null) == f ]] && break
  sleep 1
done

# Patroni removes PATRONI_* from its environment once read (so callbacks don't leak them); its
# own roles' names and passwords come from the configuration the entrypoint rendered from them.
authentication() {
  python3 -c 'import sys, yaml
print(yaml.safe_load(open("/etc/patroni/patroni.yml"))["postgresql"]["authentication"][sys.argv[1]][sys.argv[2]])' "$1" "$2"
}
names=() passwords=()
for kind in superuser replication rewind; do
  names+=("$(authentication "$kind" username)")
  passwords+=("$(authentication "$kind" password)")
done
for kind in APP ADMIN IMPORTER MIGRATOR MONITOR PGBOUNCER_AUTH; do
  user_var=ISHCHAT_${kind}_USER password_var=ISHCHAT_${kind}_PASSWORD
  names+=("${!user_var}")
  passwords+=("${!password_var}")
done

# Only a password that no longer logs in is set again: ALTER ROLE makes a new SCRAM salt even for
# the same password, which would break PgBouncer's pass-through logins made with the old one,
# and this runs on every promotion.
matches() { PGPASSWORD=$2 PGCONNECT_TIMEOUT=5 psql --no-psqlrc --host 127.0.0.1 --username "$1" --dbname postgres --tuples-only --command 'select 1' >/dev/null 2>&1; }
# The application roles arrive as SCRAM verifiers (the node never holds their passwords): one
# password always gives the same verifier, so an unchanged one equals what pg_authid holds.
stored() { "${sql[@]}" --tuples-only --no-align --set role_name="$1" <<'SQL'
SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = :'role_name'
SQL
}
changed=0
for i in "${!names[@]}"; do
  if [[ ${passwords[$i]} == SCRAM-SHA-256\$* ]]; then
    [[ $(stored "${names[$i]}") == "${passwords[$i]}" ]] && continue
  else
    matches "${names[$i]}" "${passwords[$i]}" && continue
  fi
  log "$action as $role of $scope: role ${names[$i]}'s password differs from the environment: setting it"
  ROLE_NAME=${names[$i]} ROLE_PASSWORD=${passwords[$i]} "${sql[@]}" <<'SQL'
\getenv role_name ROLE_NAME
\getenv role_password ROLE_PASSWORD
SET log_statement = 'none';
SET log_min_error_statement = 'panic';
SET password_encryption = 'scram-sha-256';
SELECT format('ALTER ROLE %I PASSWORD %L', :'role_name', :'role_password')
 WHERE EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'role_name') \gexec
SQL
  changed=$((changed + 1))
done
log "$action as $role of $scope: every role's password matches the environment ($changed set)"
