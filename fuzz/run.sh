#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 20) over its committed corpus and seeds, and
# fails on the first crash, leak, timeout or out-of-memory (libFuzzer writes the input to
# fuzz/artifacts/TARGET/). Needs nightly Rust and cargo-fuzz (.ci/run installs it).
#
#   bash fuzz/run.sh [SECONDS] [TARGET...]
#   RUNS=10000 SEED=1 bash fuzz/run.sh 30     # the test command's pass
#
# With RUNS and SEED a pass is one fixed sequence of inputs (SECONDS only caps it), so the
# test command checks what was checked here instead of drawing new inputs each time.
#
# New inputs that grow coverage go to fuzz/corpus/TARGET/; commit them after a long run
# (`cargo +nightly fuzz cmin TARGET` first keeps the set small).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-20}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
cargo +nightly fuzz build -O -a
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "seeds/$t"
  echo "== fuzz $t: ${seconds} s"
  # -rss_limit_mb: an input that makes the code allocate past it is a finding (limits are
  # checked before allocating); -timeout: one input taking longer is a hang.
  if ! cargo +nightly fuzz run -O -a "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$seconds" -runs="${RUNS:--1}" -seed="${SEED:-0}" \
    -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
    >"$log" 2>&1; then
    tail -60 "$log"
    echo "fuzz $t failed: the input is in fuzz/artifacts/$t"
    exit 1
  fi
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done)' "$log" || true
done
