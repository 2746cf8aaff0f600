#!/usr/bin/env bash
# Peak memory of `seqlens predict` on one chromosome-length record, against the record's
# length and the tiling stride (issue 13: windows stream from inside a record).
#
# Each run is stopped after SECONDS_PER_RUN seconds (default 60) when it has not finished: by
# then the record has been read and windows have streamed through the model for most of that
# time, so the peak has been reached (the bound is stated in BENCHMARKS.md; the table says how
# many windows each run got through). Peak RSS is GNU time's %M; the record is random,
# seeded sequence, one FASTA record with 60-column lines.
#
# Usage: bash benches/memory.sh [MBP...]     (default: 10 50 250)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/seqlens
per_run=${SECONDS_PER_RUN:-60}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 50 250)

# Prints: model, Mbp, stride, peak RSS (MB), windows predicted, seconds, finished?
measure() {
  local model=$1 mbp=$2 stride=$3
  local args=(predict --model "$model" --fasta "$dir/chr.fa" --backend cpu)
  [ "$stride" = "-" ] || args+=(--stride "$stride")
  local t0 t1 rows rc
  t0=$(date +%s.%N)
  set +e
  rows=$(/usr/bin/time -f %M -o "$dir/rss" timeout -s TERM "$per_run" "$bin" "${args[@]}" \
    2>/dev/null | wc -l)
  rc=${PIPESTATUS[0]}
  set -e
  t1=$(date +%s.%N)
  local done=yes
  [ "$rc" = 0 ] || done="no (stopped at ${per_run} s)"
  printf '| %s | %s | %s | %d | %d | %.0f | %s |\n' "$(basename "$model")" "$mbp" "$stride" \
    $(( $(tail -1 "$dir/rss") / 1024 )) "$rows" "$(echo "$t1 - $t0" | bc)" "$done"
}

echo "| model | record (Mbp) | stride | peak RSS (MB) | output rows | seconds | finished |"
echo "|---|---|---|---|---|---|---|"
for mbp in "${sizes[@]}"; do
  python3 - "$dir/chr.fa" "$mbp" <<'EOF'
import os, random, sys
path, mbp = sys.argv[1], int(sys.argv[2])
random.seed(mbp)
n = mbp * 1_000_000
table = bytes(b"ACGT"[i % 4] for i in range(256))
with open(path, "wb") as f:
    f.write(b">chr1\n")
    left = n
    while left:
        k = min(left, 60 * 100_000)
        seq = random.randbytes(k).translate(table)
        f.write(b"\n".join(seq[i:i + 60] for i in range(0, k, 60)) + b"\n")
        left -= k
EOF
  for stride in 1000 100 10; do
    measure examples/models/demo.onnx "$mbp" "$stride"
  done
  measure examples/models/cispliceai/cispliceai.onnx "$mbp" -
done
