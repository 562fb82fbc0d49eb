#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build over its checked-in seeds.
#   tests/fuzz/run_fuzzers.sh BUILD_DIR SECONDS            each target for SECONDS (CI)
#   tests/fuzz/run_fuzzers.sh BUILD_DIR runs:N [TARGET...]  each target for N executions
# New inputs go to a scratch corpus (the checked-in seeds never grow);
# a crash, leak, timeout or failed property leaves its input in
# BUILD_DIR/fuzz-artifacts/<target>/ and makes the script fail, after
# every target ran. Per target one line: executions, execs/s, coverage.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build=${1:?usage: run_fuzzers.sh BUILD_DIR SECONDS|runs:N [TARGET...]}
budget=${2:?usage: run_fuzzers.sh BUILD_DIR SECONDS|runs:N [TARGET...]}
shift 2
targets=("$@")
if ((${#targets[@]} == 0)); then
  for d in "$here"/corpus/*/; do targets+=("$(basename "$d")"); done
fi
if [[ $budget == runs:* ]]; then limit=(-runs="${budget#runs:}"); else limit=(-max_total_time="$budget"); fi

failed=()
for t in "${targets[@]}"; do
  bin="$build/fuzz_$t"
  if [[ ! -x $bin ]]; then
    echo "fuzz: $bin is missing (build the target mozaiek_fuzz)" >&2
    failed+=("$t")
    continue
  fi
  scratch=$(mktemp -d)
  artifacts="$build/fuzz-artifacts/$t"
  mkdir -p "$artifacts"
  log="$build/fuzz-artifacts/$t.log"
  start=$(date +%s)
  "$bin" "${limit[@]}" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$scratch" "$here/corpus/$t" >"$log" 2>&1
  rc=$?
  secs=$(($(date +%s) - start))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  rm -rf "$scratch"
  if ((rc != 0)); then
    echo "fuzz: $t FAILED (exit $rc) after ${runs:-?} runs; input in $artifacts/, log $log" >&2
    grep -E 'ERROR|property failed|SUMMARY' "$log" | head -5 >&2
    failed+=("$t")
  else
    echo "fuzz: $t ok: ${runs:-?} runs in ${secs}s (${rate:-?} exec/s), ${cov:-cov: ?}"
  fi
done
if ((${#failed[@]} > 0)); then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
