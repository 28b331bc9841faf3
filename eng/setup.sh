#!/usr/bin/env bash
# Prepares this machine for IshChat: a Docker engine with API >= 1.44, the local Debian
# trixie base image every container image is built FROM, and says whether the ASP.NET Core
# development certificate the dashboard wants is there, and restores the repository's dotnet tools (the Aspire CLI
# that eng/cluster.sh uses). Idempotent: a second run only checks and returns in
# seconds. Never pulls from a container registry. Prints how long each step took.
set -euo pipefail

readonly MIN_DOCKER_API="1.44"
readonly BASE_IMAGE="${ISHCHAT_BASE_IMAGE:-ishchat/debian-trixie:base}"
readonly DOCKERD_LOG="${ISHCHAT_DOCKERD_LOG:-/var/log/ishchat-dockerd.log}"

say()  { printf '[setup] %s\n' "$*"; }
# Runs one step and says how long it took: a slow first run shows where its time went.
timed() { local label=$1 started=$SECONDS; shift; "$@"; say "$label: $(( SECONDS - started )) s"; }
fail() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

server_api_version() { docker version --format '{{.Server.APIVersion}}' 2>/dev/null || true; }

is_debian_root() { [ -r /etc/debian_version ] && [ "$(id -u)" = 0 ]; }

# Debian trixie with its updates and security suites: for the host (pinned low) and the base image.
trixie_sources() {
  cat <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie trixie-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
}

apt_updated=0
apt_update_once() {
  if [ "$apt_updated" = 0 ]; then
    say "apt-get update"
    apt-get update -qq >/dev/null
    apt_updated=1
  fi
}

# On a bookworm host the trixie suite is added pinned low (priority 100), so only
# what we ask for with -t trixie comes from it; libc and the rest stay bookworm's.
add_trixie_suite_pinned_low() {
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ "$codename" = "trixie" ] && return 0
  if [ ! -f /etc/apt/sources.list.d/ishchat-trixie.sources ]; then
    say "adding the Debian trixie suite, pinned low"
    trixie_sources >/etc/apt/sources.list.d/ishchat-trixie.sources
    cat >/etc/apt/preferences.d/ishchat-trixie-low <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100

Package: *
Pin: release n=trixie-security
Pin-Priority: 100

Package: *
Pin: release n=trixie-updates
Pin-Priority: 100
PIN
    apt_updated=0
  fi
}

install_docker_engine() {
  is_debian_root || fail "no Docker engine with API >= $MIN_DOCKER_API answers. Install Docker Engine 25 or newer (https://docs.docker.com/engine/install/) and start it, then run this again."
  if [ ! -x /usr/sbin/dockerd ] || ! version_ge "$(/usr/sbin/dockerd --version | sed -E 's/.*version ([0-9.]+).*/\1/')" "25.0"; then
    add_trixie_suite_pinned_low
    apt_update_once
    say "installing docker.io from Debian trixie (takes about a minute)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie \
      -o Dpkg::Options::=--force-confold docker.io docker-cli docker-buildx iptables >/dev/null
  fi
}

start_dockerd() {
  if ! pgrep -x dockerd >/dev/null; then
    say "starting dockerd in its own session (log: $DOCKERD_LOG)"
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    # There is no systemd here: dockerd runs detached and outlives this script. setsid gives it a
    # session and process group of its own, so Ctrl+C in this terminal, or a kill of a run's process
    # group (how scripts stop `eng/run.sh`), never reaches the engine; nohup alone left it in ours.
    # Every descriptor above 2 is closed for it first: run as `flock -x /tmp/ishchat-machine.lock eng/test.sh`, this
    # script inherits the machine lock on fd 3, and an engine holding that fd kept the lock held for as long as it
    # ran (8 Dec 2026: every later `flock` on the machine waited for ever behind dockerd).
    # shellcheck disable=SC2016 # expanded by the inner bash
    setsid --fork bash -c 'for fd in $(ls /proc/$$/fd); do ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null; done; exec /usr/sbin/dockerd' \
      >>"$DOCKERD_LOG" 2>&1 </dev/null
  fi
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    sleep 1
  done
  tail -n 20 "$DOCKERD_LOG" >&2 || true
  fail "dockerd did not answer within 60 s (see $DOCKERD_LOG)"
}

ensure_docker() {
  command -v docker >/dev/null || { is_debian_root || fail "the docker client is missing; install Docker Engine 25 or newer."; install_docker_engine; }
  local api
  api=$(server_api_version)
  if [ -n "$api" ] && version_ge "$api" "$MIN_DOCKER_API"; then
    say "docker engine answers (API $api)"
    return 0
  fi
  if [ -n "$api" ]; then
    fail "the running Docker engine speaks API $api; IshChat needs >= $MIN_DOCKER_API. Upgrade it to Docker 25 or newer."
  fi
  install_docker_engine
  start_dockerd
  api=$(server_api_version)
  version_ge "$api" "$MIN_DOCKER_API" || fail "dockerd started but speaks API $api (< $MIN_DOCKER_API)"
  say "docker engine started (API $api)"
}

# The one base every IshChat image is built FROM. No registry is assumed: debootstrap
# makes a minimal trixie root file system from Debian's mirror, docker import makes it an image.
rootfs_dir=""
rootfs_pid=""
# Removed on the way out, however it goes (a half-made root file system is never imported).
cleanup_rootfs() {
  [ -z "$rootfs_pid" ] || kill "$rootfs_pid" 2>/dev/null || true
  [ -z "$rootfs_dir" ] || rm -rf "$rootfs_dir"
}
trap cleanup_rootfs EXIT

ensure_debootstrap() {
  command -v debootstrap >/dev/null && return 0
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
}

start_debootstrap() {
  rootfs_dir=$(mktemp -d /tmp/ishchat-rootfs.XXXXXX)
  debootstrap --variant=minbase --include=ca-certificates trixie "$rootfs_dir" http://deb.debian.org/debian >/tmp/ishchat-debootstrap.log 2>&1 &
  rootfs_pid=$!
}

# On a machine whose engine has never run (no /var/lib/docker: a fresh one, CI's case) the base image can't exist
# yet, so debootstrap starts now and runs beside the engine's install; both mostly wait on Debian's mirror.
start_debootstrap_early() {
  is_debian_root || return 0
  [ -d /var/lib/docker/image ] && return 0
  [ -z "$(server_api_version)" ] || return 0
  add_trixie_suite_pinned_low
  ensure_debootstrap
  say "debootstrap --variant=minbase trixie, beside the engine's install (log: /tmp/ishchat-debootstrap.log)"
  start_debootstrap
}

ensure_base_image() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    say "base image $BASE_IMAGE present"
    return 0
  fi
  is_debian_root || fail "the base image $BASE_IMAGE is missing and debootstrap needs root on Debian to make it."
  if [ -z "$rootfs_pid" ]; then
    ensure_debootstrap
    say "debootstrap --variant=minbase trixie (about a minute)"
    start_debootstrap
  fi
  wait "$rootfs_pid" || { rootfs_pid=""; tail -n 20 /tmp/ishchat-debootstrap.log >&2; fail "debootstrap failed (see /tmp/ishchat-debootstrap.log)"; }
  rootfs_pid=""
  local root=$rootfs_dir
  trixie_sources >"$root/etc/apt/sources.list.d/debian.sources"
  rm -f "$root/etc/apt/sources.list"
  # Keep images small: no docs, man pages or apt caches in any layer built on this base.
  cat >"$root/etc/dpkg/dpkg.cfg.d/ishchat-nodoc" <<'CFG'
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
CFG
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"
  rootfs_dir=""
  say "base image $BASE_IMAGE imported"
}

# The dashboard greets a machine without a trusted ASP.NET Core development certificate with a red
# banner. Only reported here, not created: once a certificate exists, every Aspire 13 AppHost on the
# machine serves Redis over TLS and injects it into containers, which a branch without
# WithoutHttpsCertificate() on its containers does not survive. The README says what to run.
check_dev_certificate() {
  command -v dotnet >/dev/null || return 0
  local cert_dir="$HOME/.aspnet/dev-certs/trust:${SSL_CERT_DIR:-$(openssl version -d 2>/dev/null | sed -E 's/^OPENSSLDIR: "(.*)"$/\1/')/certs}"
  if SSL_CERT_DIR="$cert_dir" dotnet dev-certs https --check --trust >/dev/null 2>&1; then
    say "ASP.NET Core development certificate present and trusted"
  else
    say "no trusted ASP.NET Core development certificate: the dashboard shows a banner until you run"
    say "  dotnet dev-certs https --trust    (then see the README's troubleshooting on Linux)"
  fi
}

# The repository's own dotnet tools (.config/dotnet-tools.json): the Aspire CLI that eng/cluster.sh drives the
# running AppHost's commands with. From NuGet like every package; a second run finds it in the cache.
restore_tools() {
  command -v dotnet >/dev/null || return 0
  (cd "$(dirname "$0")/.." && dotnet tool restore >/dev/null) || fail "dotnet tool restore failed (the Aspire CLI in .config/dotnet-tools.json)"
}

start_debootstrap_early
timed "docker engine" ensure_docker
timed "base image" ensure_base_image
timed "development certificate" check_dev_certificate
timed "dotnet tools" restore_tools
say "ready"
