#!/usr/bin/env bash
# azd's predeploy hook of the api service: builds the migration service's image, pushes it to the
# environment's registry, points the Container Apps job at it, runs the job and waits for it.
# The API is deployed only if the schema is up to date: a failed or timed-out run stops `azd deploy`.
# Needs the Azure CLI (az) logged in to the same subscription as azd, and the .NET SDK (no Docker).
# Idempotent: the migrations themselves are (DbUp journal), and so is creating the roles.
set -euo pipefail

die() { printf 'run-migrations: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'run-migrations: %s\n' "$*" >&2; }

for var in AZURE_RESOURCE_GROUP AZURE_CONTAINER_REGISTRY_ENDPOINT MIGRATIONS_JOB_NAME; do
  [[ -n ${!var:-} ]] || die "$var is not set; run 'azd provision' first (azd passes its outputs to hooks)"
done
command -v az >/dev/null || die "the Azure CLI (az) is required: https://learn.microsoft.com/cli/azure/install-azure-cli"
command -v dotnet >/dev/null || die "the .NET SDK is required"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
registry="${AZURE_CONTAINER_REGISTRY_ENDPOINT}"
tag="azd-$(date -u +%Y%m%d%H%M%S)"
image="${registry}/ishchat/migrations:${tag}"
timeout_seconds="${ISHCHAT_MIGRATIONS_TIMEOUT:-900}"

say "building and pushing ${image}"
# A registry token for the SDK's own push: no Docker daemon needed (az acr login without it would need one).
DOTNET_CONTAINER_REGISTRY_PWORD="$(az acr login --name "${registry%%.*}" --expose-token --query accessToken --output tsv)"
export DOTNET_CONTAINER_REGISTRY_PWORD
export DOTNET_CONTAINER_REGISTRY_UNAME=00000000-0000-0000-0000-000000000000
# The SDK's container support builds the image without a Dockerfile, like azd does for the API;
# linux-x64 whatever the operator's machine is, because Container Apps runs amd64.
dotnet publish "${repo_root}/IshChat.MigrationService/IshChat.MigrationService.csproj" \
  -c Release --os linux --arch x64 -t:PublishContainer -p:EnableSdkContainerSupport=true \
  -p:ContainerRegistry="${registry}" -p:ContainerRepository=ishchat/migrations -p:ContainerImageTag="${tag}" \
  --nologo -v quiet

# Remembered so that `azd provision` keeps this image instead of the placeholder.
azd env set MIGRATIONS_IMAGE "${image}" >/dev/null

say "pointing job ${MIGRATIONS_JOB_NAME} at the new image and starting it"
az containerapp job update --name "${MIGRATIONS_JOB_NAME}" --resource-group "${AZURE_RESOURCE_GROUP}" \
  --container-name migrations --image "${image}" --output none
execution="$(az containerapp job start --name "${MIGRATIONS_JOB_NAME}" --resource-group "${AZURE_RESOURCE_GROUP}" \
  --query name --output tsv)"
[[ -n ${execution} ]] || die "the job did not start"

deadline=$((SECONDS + timeout_seconds))
while true; do
  status="$(az containerapp job execution show --name "${MIGRATIONS_JOB_NAME}" --resource-group "${AZURE_RESOURCE_GROUP}" \
    --job-execution-name "${execution}" --query properties.status --output tsv)"
  case "${status}" in
    Succeeded) say "execution ${execution} succeeded"; exit 0 ;;
    Failed|Stopped|Degraded)
      die "execution ${execution} ended ${status}; its logs: az containerapp job logs show --name ${MIGRATIONS_JOB_NAME} --resource-group ${AZURE_RESOURCE_GROUP} --execution ${execution} --container migrations" ;;
  esac
  ((SECONDS < deadline)) || die "execution ${execution} still ${status} after ${timeout_seconds} s"
  sleep 10
done
