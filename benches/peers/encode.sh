#!/usr/bin/env bash
# One-hot encoding of a chr1-sized sequence (249 Mbp, upper-case ACGT with N runs) in 1 Mi-base
# chunks, on one pinned core, in one run: tangermeme 1.6's one_hot_encode (float32, int8) and
# seqlens' encoder (float32 and uint8, NCL and NLC). Prints each time and seqlens' ratio to
# tangermeme (> 1: seqlens is faster).
# Needs: pip install tangermeme==1.6.0 (it brings torch); cargo. CORE picks the core (0).
set -euo pipefail
cd "$(dirname "$0")/../.."
CORE="${CORE:-0}"
PYTHON="${PYTHON:-python3}"
SEQ=target/tmp/chr1_like.txt
mkdir -p target/tmp
if [ ! -s "$SEQ" ]; then
  "$PYTHON" -c "
import numpy as np
rng = np.random.default_rng(1)
s = np.frombuffer(b'ACGT', np.uint8)[rng.integers(0, 4, 249_000_000)].copy()
for start in range(0, len(s), 100_000):
    s[start:start + 50] = ord('N')
open('$SEQ', 'wb').write(s.tobytes())
"
fi
cargo build --quiet --release --example encode_speed
OUT=$(mktemp)
taskset -c "$CORE" "$PYTHON" benches/peers/encode_tangermeme.py "$SEQ" | tee "$OUT"
taskset -c "$CORE" target/release/examples/encode_speed "$SEQ" | tee -a "$OUT"
awk -F'\t' '
  $1 == "tangermeme" { peer[$2] = $3 }
  $1 == "seqlens" {
    d = ($3 == "uint8") ? "int8" : $3
    printf "ratio\t%s %s vs tangermeme %s\t%.2fx\n", $2, $3, d, peer[d] / $4
  }' "$OUT"
rm -f "$OUT"
