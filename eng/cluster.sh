#!/usr/bin/env bash
# The cluster's dashboard commands from a shell, against the AppHost that `eng/run.sh` (or `aspire run`)
# started from this checkout. Runs the very same command the dashboard button runs, through the Aspire CLI
# (`aspire resource <resource> <command>`, a repo-local dotnet tool pinned in .config/dotnet-tools.json),
# which reaches the AppHost over its local backchannel socket (~/.aspire/cli/bch/, this user only).
#
#   eng/cluster.sh status                  the cluster's and each node's state, as the dashboard shows it
#   eng/cluster.sh switchover              hand leadership to the healthiest replica
#   eng/cluster.sh rolling-restart         apply settings pending a restart, without an outage
#   eng/cluster.sh add-replica             start the next spare node as a replica
#   eng/cluster.sh remove-replica          drain and stop the highest running replica
#   eng/cluster.sh failover-to <node>      promote that replica now (Patroni's manual failover)
#   eng/cluster.sh restart-postgres <node> restart PostgreSQL on that node, which keeps its role
#   eng/cluster.sh update-image [IMAGE]    roll a new node image out, one node at a time: IMAGE, or the
#                                          node recipe rebuilt from Debian's current packages (docs/operations.md)
#   eng/cluster.sh commands                the verb → resource → command table (what the tests check)
#
# What the command writes to its resource's log streams while it runs. Exit 0 when the command succeeded; the CLI's
# exit code when it did not (16: refused, with the reason; or no such resource or command); 1 when no AppHost from this
# checkout runs; 2 for a usage error.
set -euo pipefail
cd "$(dirname "$0")/.." && cd "$(pwd -P)"

readonly APPHOST=IshChat.AppHost/IshChat.AppHost.csproj

# verb, resource ("<node>" when the verb takes one), command name. The names are the constants in
# IshChat.AppHost/Hosting/Patroni/PatroniCommands.cs and ReplicaCommands.cs; ClusterScriptModelTests checks they agree.
readonly COMMANDS="\
switchover        pg       patroni-switchover
rolling-restart   pg       patroni-rolling-restart
add-replica       pg       patroni-add-replica
remove-replica    pg       patroni-remove-replica
failover-to       <node>   patroni-failover-to-node
restart-postgres  <node>   patroni-restart-postgres
update-image      pg       patroni-update-node-image"

say()   { printf '[cluster] %s\n' "$*" >&2; }
usage() {
  sed -n '7,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# The Aspire CLI speaks to a person by default: no colours, no prompts, no banner, no telemetry here.
export NO_COLOR=1 ASPIRE_CLI_TELEMETRY_OPTOUT=true DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
readonly ASPIRE_OPTIONS=(--non-interactive --nologo)
# Every call names this checkout's AppHost, so an AppHost from another checkout on the machine is never the target.
aspire() { dotnet tool run aspire "$@" --apphost "$APPHOST" "${ASPIRE_OPTIONS[@]}" </dev/null; }

require_running_apphost() {
  if ! dotnet tool run aspire --version >/dev/null 2>&1; then
    say "restoring the Aspire CLI (dotnet tool restore, once per machine)"
    dotnet tool restore >/dev/null
  fi
  local running
  running=$(dotnet tool run aspire ps --format Json "${ASPIRE_OPTIONS[@]}" </dev/null 2>/dev/null | grep -c "\"appHostPath\": \"$PWD/$APPHOST\"" || true)
  if [ "$running" = 0 ]; then
    say "ERROR: no AppHost from $PWD is running: start it with eng/run.sh (another terminal, or --headless &)"
    exit 1
  fi
  if [ "$running" -gt 1 ]; then
    say "WARNING: $running AppHosts from this checkout are running (e.g. eng/run.sh and a test run); the CLI picks one"
  fi
}

status() {
  require_running_apphost
  # From the JSON (a table wraps at 80 columns when not on a terminal): each resource's name and state, which for the
  # cluster names the leader and for a node its role and lag. Only the cluster's rows, by display name (a container's
  # name carries a suffix, pg-0-abcdefgh); resource keys sit 6 spaces deep.
  aspire describe --format Json | awk '
    /^      "displayName": /  { name = $0; sub(/^[^:]*: "/, "", name); sub(/",?$/, "", name) }
    /^      "state": / { state = $0; sub(/^[^:]*: "/, "", state); sub(/",?$/, "", state)
                         if (name ~ /^pg(-[0-9]+)?$/) printf "%-6s %s\n", name, state }' |
    perl -CS -pe 's/\\u([0-9A-Fa-f]{4})/chr(hex($1))/ge'  # JSON writes "·" as \u00B7
}

# Passes the log lines stamped at or after $1, without their stamp. (Not awk: mawk reads a pipe in blocks.)
lines_since() {
  local line stamp show=0
  while IFS= read -r line; do
    case $line in
      [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*) stamp=${line%% *}; line=${line#* }; show=0; [[ ! "$stamp" < "$1" ]] && show=1 ;;
    esac
    [ "$show" = 0 ] || printf '  %s\n' "$line"
  done
}

run() {
  local resource=$1 command=$2
  require_running_apphost
  # The command reports its progress in the resource's log: show what it writes from now on while it runs (the CLI's
  # follow replays the whole log first, so older lines are dropped by their time). Job control gives the follower a
  # process group of its own, so the CLI it starts and the filter stop together.
  local since
  since=$(date -u +%Y-%m-%dT%H:%M:%S)
  set -m
  dotnet tool run aspire logs "$resource" --follow --timestamps --apphost "$APPHOST" "${ASPIRE_OPTIONS[@]}" </dev/null 2>/dev/null |
    lines_since "$since" >&2 &
  local follower=$!
  set +m
  local status=0
  aspire resource "$resource" "$command" || status=$?
  sleep 1  # the last lines arrive just after the result
  kill -- -"$follower" 2>/dev/null || true
  wait "$follower" 2>/dev/null || true
  if [ "$status" -ne 0 ]; then
    say "FAILED: $command on $resource (exit $status)"
  fi
  return "$status"
}

# update-image IMAGE: the command rolls out whatever is tagged <the nodes' reference>-candidate (ImageReplacement.cs).
tag_candidate() {
  local image=$1 running
  docker image inspect "$image" >/dev/null 2>&1 || { say "ERROR: no image '$image' on this engine"; exit 2; }
  running=$(docker ps --filter name=^pg-0- --format '{{.Image}}' | sort -u)
  if [ "$(printf '%s\n' "$running" | grep -c .)" -ne 1 ]; then
    say "ERROR: expected one running pg-0 container to read the nodes' image reference from, found: ${running:-none}"
    exit 1
  fi
  docker image tag "$image" "$running-candidate"
  say "tagged $image as $running-candidate"
}

[ $# -ge 1 ] || usage
verb=$1
shift
case "$verb" in
  status) [ $# -eq 0 ] || usage; status ;;
  commands) echo "$COMMANDS" ;;
  -h|--help|help) usage ;;
  *)
    entry=$(echo "$COMMANDS" | awk -v verb="$verb" '$1 == verb')
    if [ -z "$entry" ]; then
      say "ERROR: unknown command '$verb'"
      usage
    fi
    read -r _ resource command <<<"$entry"
    if [ "$verb" = update-image ] && [ $# -eq 1 ]; then
      tag_candidate "$1"
    elif [ "$resource" = "<node>" ]; then
      [ $# -eq 1 ] || { say "ERROR: $verb needs a node name, e.g. $verb pg-2"; exit 2; }
      resource=$1
    else
      [ $# -eq 0 ] || usage
    fi
    run "$resource" "$command"
    ;;
esac
