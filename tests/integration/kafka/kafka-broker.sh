#!/usr/bin/env bash
# A real, single-node Apache Kafka broker (KRaft, no ZooKeeper) for the
# integration tests. The jars come from Maven Central through pom.xml beside
# this script, so nothing but Java 17 and Maven is needed on the machine.
#
#   kafka-broker.sh fetch                    download the broker jars (idempotent)
#   kafka-broker.sh start <workdir> <port>   format + start; prints 127.0.0.1:<port>
#   kafka-broker.sh stop <workdir>           SIGTERM, wait, then SIGKILL
#
# The controller listens on <port>+1. Environment:
#   MOZAIEK_CACHE              cache root (default $HOME/.cache/mozaiek)
#   MOZAIEK_KAFKA_OWNER_PID    if set, a watchdog stops the broker when that
#                              process exits (tests that crash leave no broker)
#   MOZAIEK_KAFKA_START_TIMEOUT  seconds to wait for the broker (default 60)
#   MOZAIEK_KAFKA_VERSION      the Apache Kafka version (default 4.4.0, the
#                              newest 4.x; 3.7.2 is tested too). 4.x logs
#                              through log4j2, 3.x through reload4j (log4j 1).
set -euo pipefail

readonly KAFKA_VERSION="${MOZAIEK_KAFKA_VERSION:-4.4.0}"
[[ "${KAFKA_VERSION}" =~ ^[34]\.[0-9]+\.[0-9]+$ ]] ||
  { echo "kafka-broker.sh: MOZAIEK_KAFKA_VERSION must be 3.x.y or 4.x.y, got '${KAFKA_VERSION}'" >&2; exit 1; }
readonly KAFKA_MAJOR="${KAFKA_VERSION%%.*}"
readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly CACHE_DIR="${MOZAIEK_CACHE:-${HOME:-/tmp}/.cache/mozaiek}/kafka-${KAFKA_VERSION}"
readonly LIBS_DIR="${CACHE_DIR}/libs"

die() { echo "kafka-broker.sh: $*" >&2; exit 1; }

# The reason first, then the end of the broker's logs that explain it.
die_with_logs() {
  local workdir="$1"; shift
  echo "kafka-broker.sh: $*" >&2
  local f
  for f in "${workdir}/stdout.log" "${workdir}/server.log"; do
    [[ -s "${f}" ]] || continue
    echo "--- last lines of ${f} ---" >&2
    tail -n 25 "${f}" >&2
  done
  exit 1
}

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH (needed: $2)"; }

cmd_fetch() {
  if [[ -f "${LIBS_DIR}/.complete" ]]; then return 0; fi
  need mvn "Maven downloads the Kafka broker jars"
  need java "the Kafka broker runs on Java 17"
  mkdir -p "${CACHE_DIR}"
  # Several test binaries may fetch at once: one downloads, the others wait.
  exec 9>"${CACHE_DIR}/.fetch.lock"
  flock 9
  if [[ -f "${LIBS_DIR}/.complete" ]]; then return 0; fi
  local tmp="${CACHE_DIR}/libs.tmp.$$"
  rm -rf "${tmp}"
  if ! mvn -q -B -f "${SCRIPT_DIR}/pom.xml" -Dkafka.version="${KAFKA_VERSION}" \
      -Dkafka.major="${KAFKA_MAJOR}" \
      dependency:copy-dependencies -DoutputDirectory="${tmp}" >"${CACHE_DIR}/fetch.log" 2>&1; then
    rm -rf "${tmp}"
    echo "kafka-broker.sh: maven could not fetch kafka_2.13:${KAFKA_VERSION}" \
         "(full log: ${CACHE_DIR}/fetch.log)" >&2
    tail -n 40 "${CACHE_DIR}/fetch.log" >&2
    exit 1
  fi
  [[ -f "${tmp}/kafka_2.13-${KAFKA_VERSION}.jar" ]] || die "fetch produced no kafka_2.13-${KAFKA_VERSION}.jar"
  rm -rf "${LIBS_DIR}"
  mv "${tmp}" "${LIBS_DIR}"
  touch "${LIBS_DIR}/.complete"
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

write_configs() {
  local workdir="$1" port="$2" ctrl_port="$3"
  cat >"${workdir}/server.properties" <<EOF
# Single-node KRaft broker for mozaiek integration tests (written by kafka-broker.sh).
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${ctrl_port}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${ctrl_port}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=${workdir}/data
num.partitions=4
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
# Tests create their topics explicitly (as the service does), so a missing
# topic shows up as an error instead of being created with defaults.
auto.create.topics.enable=false
num.network.threads=2
num.io.threads=4
log.retention.hours=1
# Large enough for the 10 MB garbage record of the dead-letter test.
message.max.bytes=16777216
replica.fetch.max.bytes=16777216
EOF
  # 4.x: log4j2; 3.x: log4j 1 (reload4j). Both write server.log, which
  # start waits on.
  cat >"${workdir}/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${workdir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
EOF
  cat >"${workdir}/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${workdir}/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
EOF
}

# A KRaft cluster id: 16 random bytes, URL-safe base64 without padding. It may
# start with "-", so callers pass it as --cluster-id=ID, never as a separate word.
random_cluster_id() {
  # MOZAIEK_TEST_CLUSTER_ID pins the id (to check ids starting with "-").
  [[ -n "${MOZAIEK_TEST_CLUSTER_ID:-}" ]] && { echo "${MOZAIEK_TEST_CLUSTER_ID}"; return; }
  head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'
}

cmd_start() {
  local workdir="${1:-}" port="${2:-}"
  [[ -n "${workdir}" && -n "${port}" ]] || die "usage: start <workdir> <port>"
  [[ "${port}" =~ ^[0-9]+$ ]] || die "port must be a number, got '${port}'"
  local ctrl_port=$((port + 1))
  local timeout="${MOZAIEK_KAFKA_START_TIMEOUT:-60}"
  need java "the Kafka broker runs on Java 17"
  cmd_fetch
  mkdir -p "${workdir}"
  workdir="$(cd "${workdir}" && pwd)"
  if [[ -f "${workdir}/broker.pid" ]] && kill -0 "$(cat "${workdir}/broker.pid")" 2>/dev/null; then
    die "a broker is already running from ${workdir} (pid $(cat "${workdir}/broker.pid"))"
  fi
  if port_open "${port}"; then die "port ${port} is already in use"; fi
  if port_open "${ctrl_port}"; then die "controller port ${ctrl_port} is already in use"; fi

  write_configs "${workdir}" "${port}" "${ctrl_port}"
  rm -rf "${workdir}/data"
  local java_opts=(-Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true
                   "-Dlog4j.configuration=file:${workdir}/log4j.properties"
                   "-Dlog4j2.configurationFile=${workdir}/log4j2.properties")
  if ! java "${java_opts[@]}" -cp "${LIBS_DIR}/*" kafka.tools.StorageTool format \
      --cluster-id="$(random_cluster_id)" -c "${workdir}/server.properties" >"${workdir}/format.log" 2>&1; then
    cat "${workdir}/format.log" >&2
    die "kafka storage format failed in ${workdir}"
  fi

  # setsid: the broker must not receive the test runner's terminal signals;
  # stop (or the owner watchdog) ends it.
  setsid java "${java_opts[@]}" -cp "${LIBS_DIR}/*" kafka.Kafka "${workdir}/server.properties" \
      >"${workdir}/stdout.log" 2>&1 </dev/null &
  local pid=$!
  echo "${pid}" >"${workdir}/broker.pid"

  if [[ -n "${MOZAIEK_KAFKA_OWNER_PID:-}" ]]; then
    local owner="${MOZAIEK_KAFKA_OWNER_PID}"
    ( trap '' HUP
      while kill -0 "${owner}" 2>/dev/null && kill -0 "${pid}" 2>/dev/null; do sleep 1; done
      kill -TERM "${pid}" 2>/dev/null || true
      for _ in $(seq 1 20); do kill -0 "${pid}" 2>/dev/null || exit 0; sleep 0.5; done
      kill -KILL "${pid}" 2>/dev/null || true ) >/dev/null 2>&1 </dev/null &
    echo $! >"${workdir}/watchdog.pid"
  fi

  # Ready = the client port accepts connections and the broker says it started.
  local deadline=$((SECONDS + timeout))
  while true; do
    if ! kill -0 "${pid}" 2>/dev/null; then
      die_with_logs "${workdir}" "broker exited during startup (workdir ${workdir})"
    fi
    if port_open "${port}" && grep -q "Kafka Server started" "${workdir}/server.log" 2>/dev/null; then
      break
    fi
    if ((SECONDS >= deadline)); then
      cmd_stop "${workdir}" >/dev/null 2>&1 || true
      die_with_logs "${workdir}" \
        "broker did not accept connections on 127.0.0.1:${port} within ${timeout}s"
    fi
    sleep 0.2
  done
  echo "127.0.0.1:${port}"
}

cmd_stop() {
  local workdir="${1:-}"
  [[ -n "${workdir}" ]] || die "usage: stop <workdir>"
  if [[ -f "${workdir}/watchdog.pid" ]]; then
    kill "$(cat "${workdir}/watchdog.pid")" 2>/dev/null || true
    rm -f "${workdir}/watchdog.pid"
  fi
  [[ -f "${workdir}/broker.pid" ]] || return 0
  local pid
  pid="$(cat "${workdir}/broker.pid")"
  if kill -TERM "${pid}" 2>/dev/null; then
    for _ in $(seq 1 60); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.25
    done
    if kill -0 "${pid}" 2>/dev/null; then
      echo "kafka-broker.sh: broker ${pid} ignored SIGTERM for 15s; killing" >&2
      kill -KILL "${pid}" 2>/dev/null || true
    fi
  fi
  rm -f "${workdir}/broker.pid"
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) die "usage: $0 fetch | start <workdir> <port> | stop <workdir>" ;;
esac
