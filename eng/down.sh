#!/usr/bin/env bash
# Removes whatever an interrupted run left behind: containers started from IshChat images
# (the AppHost's and the tests') and the networks they used. Safe to run any time nothing is running.
# Data is never removed unless asked for:
#   eng/down.sh --volumes          also removes the project's data volumes: every Patroni node's,
#                                  every etcd member's and the backup store's (all backups)
#   eng/down.sh --cluster-volumes  removes the Patroni and etcd volumes but keeps the backup store,
#                                  for a restore into a new cluster (docs/backup.md)
# Volumes are found by the labels the AppHost gives them (io.ishchat.volume-set, io.ishchat.volume-holds),
# so no other volume on the engine is touched.
set -euo pipefail

remove_volumes=none
for argument in "$@"; do
  case $argument in
    --volumes) remove_volumes=all ;;
    --cluster-volumes) remove_volumes=cluster ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "[down] unknown argument '$argument' (expected --volumes or --cluster-volumes)" >&2; exit 64 ;;
  esac
done

containers=$(docker ps -aq --filter label=io.ishchat.component)
if [ -n "$containers" ]; then
  echo "[down] removing $(echo "$containers" | wc -w) container(s)"
  docker rm -f $containers >/dev/null
fi
docker network prune --force --filter label=io.ishchat.network=true >/dev/null 2>&1 || true
docker network ls --format '{{.Name}}' | grep -E '^aspire-session-network' | xargs -r docker network rm >/dev/null 2>&1 || true
docker image prune --force --filter label=io.ishchat.component >/dev/null

case $remove_volumes in
  all)
    volumes=$(docker volume ls -q --filter label=io.ishchat.volume-set)
    # Made before volumes were labelled: the backup store's volume of older checkouts.
    if docker volume inspect ishchat-backup-store-data >/dev/null 2>&1; then
      volumes="$volumes ishchat-backup-store-data"
    fi ;;
  cluster)
    volumes=$(docker volume ls -q --filter label=io.ishchat.volume-holds=cluster) ;;
  none)
    volumes="" ;;
esac
volumes=$(echo $volumes | tr ' ' '\n' | sort -u | xargs)
if [ -n "$volumes" ]; then
  echo "[down] removing $(echo "$volumes" | wc -w) volume(s): $volumes"
  docker volume rm $volumes >/dev/null
elif [ "$remove_volumes" != none ]; then
  echo "[down] no IshChat volumes to remove"
else
  kept=$(docker volume ls -q --filter label=io.ishchat.volume-set | wc -l)
  [ "$kept" -eq 0 ] || echo "[down] kept $kept data volume(s) (eng/down.sh --volumes removes them)"
fi
echo "[down] clean"
