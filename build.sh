#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (run as root):
#   ./build.sh demo   install dependencies, build, run the demo
#   ./build.sh test   install dependencies, build, run the whole test suite, then
#                     the unit tests and the service's integration tests under
#                     ASan + UBSan and each fuzz target briefly
#   ./build.sh build  install dependencies and build only
#   ./build.sh package  install dependencies, build, make the Debian package
#                       (build/mozaiek_<version>_amd64.deb, packaging/README.md)
# Every step is idempotent: packages already present are not reinstalled and
# the build is incremental.
set -euo pipefail
cd "$(dirname "$0")"

BUILD_DIR=${MOZAIEK_BUILD_DIR:-build}
JOBS=${MOZAIEK_JOBS:-$(nproc)}

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  librdkafka-dev librocksdb-dev prometheus-cpp-dev libyaml-cpp-dev libsimdjson-dev
  libspdlog-dev libcli11-dev libcpp-httplib-dev libssl-dev libboost-dev
  libgtest-dev libgmock-dev libbenchmark-dev clang-format
  clang-14 libclang-rt-14-dev ccache
  openjdk-17-jre-headless maven prometheus curl openssl python3 python3-yaml python3-matplotlib
  chromium chromium-driver python3-selenium nodejs npm
  systemd dpkg-dev
)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # A JDK/JRE installed outside Debian's packages serves as well.
  if command -v java >/dev/null 2>&1; then
    missing=("${missing[@]/openjdk-17-jre-headless/}")
  fi
  if command -v mvn >/dev/null 2>&1; then
    missing=("${missing[@]/maven/}")
  fi
  # Likewise Node.js and npm from NodeSource or nvm.
  if command -v node >/dev/null 2>&1; then
    missing=("${missing[@]/nodejs/}")
  fi
  if command -v npm >/dev/null 2>&1; then
    missing=("${missing[@]/npm/}")
  fi
  local todo=()
  for p in "${missing[@]}"; do [[ -n "$p" ]] && todo+=("$p"); done
  if ((${#todo[@]} > 0)); then
    echo "installing: ${todo[*]}"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${todo[@]}"
  fi
}

# Compiles are cached when ccache is there (paths relative to the checkout,
# so another clone of it hits the same cache); without it, plain builds.
LAUNCHER=()
if command -v ccache >/dev/null 2>&1; then
  LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
fi

build() {
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${LAUNCHER[@]}" >/dev/null
  cmake --build "$BUILD_DIR" -j "$JOBS"
}

# The integration tests that run under ASan + UBSan in `test` (a ctest -R
# regex): the service's own threads (task loops, HTTP server and workers,
# changelog, crash and restart), not the whole suite; see the README,
# "Fuzzing and sanitizers".
ASAN_INTEGRATION=${MOZAIEK_ASAN_INTEGRATION:-'^(ServicePipelineTest|ServicePipelineRealKafkaTest|StateChangelogTest|AlertActionsRealBrokerTest)\.'}

sanitized_tests() {
  cmake --preset asan-ubsan "${LAUNCHER[@]}" >/dev/null
  cmake --build --preset asan-ubsan -j "$JOBS" --target mozaiek_unit_tests mozaiek_integration_tests
  (cd build-asan &&
    export ASAN_OPTIONS=detect_leaks=1:check_initialization_order=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 &&
    ctest --output-on-failure --timeout 900 -j 1 -L unit &&
    ctest --output-on-failure --timeout 900 -j 1 -L integration -R "$ASAN_INTEGRATION")
}

# Each libFuzzer target over its seeds for MOZAIEK_FUZZ_SECONDS (8) seconds.
fuzz_briefly() {
  cmake --preset fuzz "${LAUNCHER[@]}" >/dev/null
  cmake --build --preset fuzz -j "$JOBS"
  tests/fuzz/run_fuzzers.sh build-fuzz "${MOZAIEK_FUZZ_SECONDS:-8}"
}

case "${1:-}" in
  demo)
    install_packages
    build
    shift
    # The one-command demo shows the alerts as they fire; `mozaiek demo` alone
    # prints them only with --print-alerts.
    exec "$BUILD_DIR/mozaiek" demo --print-alerts "$@"
    ;;
  test)
    install_packages
    # The real Apache Kafka broker for the integration tests, from Maven Central.
    tests/integration/kafka/kafka-broker.sh fetch
    # The real OpenID Connect provider for the access-control tests, from npm.
    tests/integration/oidc/oidc-provider.sh fetch
    build
    cd "$BUILD_DIR"
    # A test that fails gets one more attempt; ctest prints both runs, so a
    # test that needed it is visible in the log and is treated as a bug.
    exec ctest --output-on-failure --timeout 900 -j 1 --repeat until-pass:2
    ;;
  build)
    install_packages
    build
    ;;
  sanitize)
    # The unit tests and the service's integration tests under ASan + UBSan
    # (build-asan/). Not part of `test`: a cold sanitizer build doubles its time.
    install_packages
    tests/integration/kafka/kafka-broker.sh fetch
    sanitized_tests
    ;;
  fuzz)
    # Each libFuzzer target briefly (MOZAIEK_FUZZ_SECONDS, default 8) over its
    # seeds (build-fuzz/, clang). Longer runs: tests/fuzz/run_fuzzers.sh.
    install_packages
    fuzz_briefly
    ;;
  package)
    install_packages
    build
    (cd "$BUILD_DIR" && cpack -G DEB)
    ;;
  *)
    echo "usage: $0 demo [demo options] | test | build | sanitize | fuzz | package" >&2
    exit 2
    ;;
esac
