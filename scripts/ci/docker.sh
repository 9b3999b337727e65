#!/usr/bin/env bash
# Docker engine and a local registry for the image step's integration test (and for CI: .ci/run calls it).
#
#   scripts/ci/docker.sh [setup]                 install packages (if missing) and start dockerd (if not running)
#   scripts/ci/docker.sh install                 apt-get install docker.io docker-registry busybox-static apache2-utils
#   scripts/ci/docker.sh start-dockerd           start dockerd in the background and wait for its socket
#   scripts/ci/docker.sh stop-dockerd            stop the dockerd this script started
#   scripts/ci/docker.sh start-registry DIR PORT start a registry (basic auth) on 127.0.0.1:PORT; credentials
#                                                "user:password" are read from STDIN, never from arguments
#   scripts/ci/docker.sh stop-registry DIR       stop the registry started with DIR
#
# Requires root (apt-get, dockerd). Logs: /var/log/staging-rollout-dockerd.log and DIR/registry.log.
set -euo pipefail

DOCKER_DATA_ROOT="${DOCKER_DATA_ROOT:-/var/lib/docker}"
DOCKERD_PIDFILE="${DOCKERD_PIDFILE:-/var/run/staging-rollout-dockerd.pid}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/staging-rollout-dockerd.log}"
DOCKER_SOCK="${DOCKER_SOCK:-/var/run/docker.sock}"

log() { printf 'docker.sh: %s\n' "$*" >&2; }
die() { printf 'docker.sh: error: %s\n' "$*" >&2; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "$1 needs root (run as root or with sudo)"; }

install_packages() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  [ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
  dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
  command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
  if [ ${#missing[@]} -eq 0 ]; then log "packages already installed"; return 0; fi
  need_root "installing ${missing[*]}"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed (no Debian mirror reachable?)"
  # policy-rc.d stops the packages from trying to start services through an init system we may not have
  local prc=/usr/sbin/policy-rc.d created_prc=0
  if [ ! -e "$prc" ]; then printf '#!/bin/sh\nexit 101\n' >"$prc"; chmod +x "$prc"; created_prc=1; fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || { [ $created_prc = 1 ] && rm -f "$prc"; die "apt-get install ${missing[*]} failed"; }
  [ $created_prc = 1 ] && rm -f "$prc"
  return 0
}

docker_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
registry_up() { local code; code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/v2/" || true); [ "$code" = 401 ] || [ "$code" = 200 ]; }

# wait_started WHAT PID LOG TRIES DELAY CHECK...: poll CHECK until it succeeds; if PID exits first or TRIES run
# out, print the tail of LOG and die.
wait_started() {
  local what="$1" pid="$2" logfile="$3" tries="$4" delay="$5" i; shift 5
  for i in $(seq 1 "$tries"); do
    if "$@"; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then tail -n 20 "$logfile" >&2; die "$what exited during start-up (see $logfile)"; fi
    sleep "$delay"
  done
  tail -n 20 "$logfile" >&2
  die "$what did not answer within $(awk "BEGIN { print $tries * $delay }")s"
}

start_dockerd() {
  if docker_up; then log "dockerd already running ($(docker version --format '{{.Server.Version}}'))"; return 0; fi
  need_root "starting dockerd"
  command -v dockerd >/dev/null 2>&1 || die "dockerd not found: run 'scripts/ci/docker.sh install' (Debian package docker.io)"
  mkdir -p "$DOCKER_DATA_ROOT"
  log "starting dockerd (data-root $DOCKER_DATA_ROOT, log $DOCKERD_LOG)"
  # 127.0.0.0/8 registries are allowed over plain HTTP by default, so the loopback test registry needs no flag.
  nohup dockerd --data-root "$DOCKER_DATA_ROOT" --host "unix://$DOCKER_SOCK" --pidfile "$DOCKERD_PIDFILE" \
    ${DOCKERD_EXTRA_ARGS:-} >"$DOCKERD_LOG" 2>&1 &
  local pid=$!
  wait_started "dockerd on $DOCKER_SOCK" "$pid" "$DOCKERD_LOG" 60 0.5 docker_up
  log "dockerd ready (pid $pid)"
}

stop_dockerd() {
  [ -f "$DOCKERD_PIDFILE" ] || { log "no dockerd pid file ($DOCKERD_PIDFILE): nothing to stop"; return 0; }
  local pid; pid=$(cat "$DOCKERD_PIDFILE")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || { log "dockerd $pid stopped"; return 0; }; sleep 0.25; done
  die "dockerd $pid did not stop"
}

start_registry() {
  local dir="${1:-}" port="${2:-}"
  [ -n "$dir" ] && [ -n "$port" ] || die "usage: start-registry DIR PORT (credentials user:password on stdin)"
  [[ "$port" =~ ^[0-9]+$ ]] || die "start-registry: PORT must be a number, got '$port'"
  [ -x /usr/bin/docker-registry ] || die "docker-registry not found: run 'scripts/ci/docker.sh install' (Debian package docker-registry)"
  command -v htpasswd >/dev/null 2>&1 || die "htpasswd not found: run 'scripts/ci/docker.sh install' (Debian package apache2-utils)"
  local creds user password
  IFS= read -r creds || true
  [[ "$creds" == *:* ]] || die "start-registry: expected 'user:password' on stdin"
  user="${creds%%:*}"; password="${creds#*:}"
  mkdir -p "$dir/data"; chmod 700 "$dir"
  # -i: password from stdin; -B: bcrypt (the only hash the registry accepts)
  printf '%s' "$password" | htpasswd -c -B -i "$dir/htpasswd" "$user" 2>/dev/null || die "htpasswd failed"
  cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: $(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
auth:
  htpasswd:
    realm: staging-rollout-test
    path: $dir/htpasswd
YAML
  chmod 600 "$dir/config.yml" "$dir/htpasswd"
  nohup /usr/bin/docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/registry.pid"
  wait_started "registry on 127.0.0.1:$port" "$pid" "$dir/registry.log" 40 0.25 registry_up "$port"
  log "registry ready on 127.0.0.1:$port (pid $pid)"
  echo "$pid"
}

stop_registry() {
  local dir="${1:-}"; [ -n "$dir" ] || die "usage: stop-registry DIR"
  [ -f "$dir/registry.pid" ] || { log "no registry pid file in $dir"; return 0; }
  local pid; pid=$(cat "$dir/registry.pid")
  kill "$pid" 2>/dev/null || true
  rm -f "$dir/registry.pid"
  log "registry $pid stopped"
}

cmd="${1:-setup}"; shift || true
case "$cmd" in
  setup) install_packages; start_dockerd ;;
  install) install_packages ;;
  start-dockerd) start_dockerd ;;
  stop-dockerd) stop_dockerd ;;
  start-registry) start_registry "$@" ;;
  stop-registry) stop_registry "$@" ;;
  -h|--help|help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$cmd' (try --help)" ;;
esac
