#!/usr/bin/env bash
# A real OpenID Connect provider for the tests: npm's certified
# `oidc-provider` (version pinned in package.json and package-lock.json
# beside this script) running provider.mjs on loopback. Needs Node.js and npm.
#
#   oidc-provider.sh fetch                    npm ci into the cache (idempotent)
#   oidc-provider.sh start <workdir> <port>   start; prints the issuer URL
#   oidc-provider.sh stop <workdir>           SIGTERM, wait, then SIGKILL
#
# Environment:
#   MOZAIEK_CACHE               cache root (default $HOME/.cache/mozaiek)
#   MOZAIEK_OIDC_OWNER_PID      if set, a watchdog stops the provider when that
#                               process exits (tests that crash leave none)
#   MOZAIEK_OIDC_START_TIMEOUT  seconds to wait for the provider (default 30)
#   MOZAIEK_OIDC_SHORT_TTL, MOZAIEK_OIDC_AUDIENCE, MOZAIEK_OIDC_ISSUER: see provider.mjs
set -euo pipefail

readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The lock file's hash names the cache, so a version bump fetches afresh.
readonly LOCK_HASH="$(sha256sum "${SCRIPT_DIR}/package-lock.json" | cut -c1-12)"
readonly CACHE_DIR="${MOZAIEK_CACHE:-${HOME:-/tmp}/.cache/mozaiek}/oidc-provider-${LOCK_HASH}"

die() { echo "oidc-provider.sh: $*" >&2; exit 1; }

die_with_log() {
  local workdir="$1"; shift
  echo "oidc-provider.sh: $*" >&2
  if [[ -s "${workdir}/provider.log" ]]; then
    echo "--- last lines of ${workdir}/provider.log ---" >&2
    tail -n 25 "${workdir}/provider.log" >&2
  fi
  exit 1
}

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH (needed: $2)"; }

cmd_fetch() {
  if [[ -f "${CACHE_DIR}/.complete" ]]; then return 0; fi
  need npm "npm installs the oidc-provider package"
  mkdir -p "${CACHE_DIR}"
  # Several test binaries may fetch at once: one installs, the others wait.
  exec 9>"${CACHE_DIR}.lock"
  flock 9
  if [[ -f "${CACHE_DIR}/.complete" ]]; then return 0; fi
  cp "${SCRIPT_DIR}/package.json" "${SCRIPT_DIR}/package-lock.json" "${CACHE_DIR}/"
  if ! (cd "${CACHE_DIR}" && npm ci --no-audit --no-fund --omit=dev) >"${CACHE_DIR}/fetch.log" 2>&1; then
    echo "oidc-provider.sh: npm ci failed (full log: ${CACHE_DIR}/fetch.log)" >&2
    tail -n 40 "${CACHE_DIR}/fetch.log" >&2
    exit 1
  fi
  touch "${CACHE_DIR}/.complete"
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

cmd_start() {
  local workdir="${1:-}" port="${2:-}"
  [[ -n "${workdir}" && -n "${port}" ]] || die "usage: start <workdir> <port>"
  [[ "${port}" =~ ^[0-9]+$ ]] || die "port must be a number, got '${port}'"
  local timeout="${MOZAIEK_OIDC_START_TIMEOUT:-30}"
  need node "the provider runs on Node.js"
  cmd_fetch
  mkdir -p "${workdir}"
  workdir="$(cd "${workdir}" && pwd)"
  if [[ -f "${workdir}/provider.pid" ]] && kill -0 "$(cat "${workdir}/provider.pid")" 2>/dev/null; then
    die "a provider is already running from ${workdir} (pid $(cat "${workdir}/provider.pid"))"
  fi
  if port_open "${port}"; then die "port ${port} is already in use"; fi

  # The script runs from the work directory so its imports find the cached
  # node_modules through a link.
  cp "${SCRIPT_DIR}/provider.mjs" "${workdir}/provider.mjs"
  ln -sfn "${CACHE_DIR}/node_modules" "${workdir}/node_modules"
  setsid node "${workdir}/provider.mjs" "${workdir}" "${port}" \
      >"${workdir}/provider.log" 2>&1 </dev/null &
  local pid=$!
  echo "${pid}" >"${workdir}/provider.pid"

  if [[ -n "${MOZAIEK_OIDC_OWNER_PID:-}" ]]; then
    local owner="${MOZAIEK_OIDC_OWNER_PID}"
    ( trap '' HUP
      while kill -0 "${owner}" 2>/dev/null && kill -0 "${pid}" 2>/dev/null; do sleep 1; done
      kill -TERM "${pid}" 2>/dev/null || true
      for _ in $(seq 1 20); do kill -0 "${pid}" 2>/dev/null || exit 0; sleep 0.5; done
      kill -KILL "${pid}" 2>/dev/null || true ) >/dev/null 2>&1 </dev/null &
    echo $! >"${workdir}/watchdog.pid"
  fi

  local deadline=$((SECONDS + timeout))
  while true; do
    if ! kill -0 "${pid}" 2>/dev/null; then
      die_with_log "${workdir}" "provider exited during startup (workdir ${workdir})"
    fi
    if grep -q "oidc provider ready at" "${workdir}/provider.log" 2>/dev/null; then break; fi
    if ((SECONDS >= deadline)); then
      cmd_stop "${workdir}" >/dev/null 2>&1 || true
      die_with_log "${workdir}" "provider did not start on 127.0.0.1:${port} within ${timeout}s"
    fi
    sleep 0.1
  done
  sed -n 's/^oidc provider ready at \([^ ]*\).*/\1/p' "${workdir}/provider.log" | head -n 1
}

cmd_stop() {
  local workdir="${1:-}"
  [[ -n "${workdir}" ]] || die "usage: stop <workdir>"
  if [[ -f "${workdir}/watchdog.pid" ]]; then
    kill "$(cat "${workdir}/watchdog.pid")" 2>/dev/null || true
    rm -f "${workdir}/watchdog.pid"
  fi
  [[ -f "${workdir}/provider.pid" ]] || return 0
  local pid
  pid="$(cat "${workdir}/provider.pid")"
  if kill -TERM "${pid}" 2>/dev/null; then
    for _ in $(seq 1 40); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.25
    done
    if kill -0 "${pid}" 2>/dev/null; then
      echo "oidc-provider.sh: provider ${pid} ignored SIGTERM for 10s; killing" >&2
      kill -KILL "${pid}" 2>/dev/null || true
    fi
  fi
  rm -f "${workdir}/provider.pid"
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) die "usage: $0 fetch | start <workdir> <port> | stop <workdir>" ;;
esac
