#!/usr/bin/env bash
# Native prediction: seqlens on its CPU engine and on tract vs onnxruntime (Python), on
# DeepSEA- and Basset-shaped models (benches/peers/make_model.py), batches 1 and 64, with 1 and
# 2 threads (RAYON_NUM_THREADS for the engine; onnxruntime's intra-op threads; tract runs on
# one thread whatever the count). One run prints every throughput and every ratio.
# Needs: pip install -r scripts/requirements.txt
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}
for arch in ${SEQLENS_BENCH_ARCHS:-deepsea basset}; do
  model=benches/peers/$arch.onnx
  $PYTHON benches/peers/make_model.py "$arch" "$model" >/dev/null
  for threads in ${SEQLENS_BENCH_THREADS:-1 2}; do
    ours=$(SEQLENS_BENCH_MODEL=$model RAYON_NUM_THREADS=$threads \
      cargo bench --quiet --bench predict 2>/dev/null | grep '^seqlens-')
    peer=$(SEQLENS_BENCH_THREADS=$threads $PYTHON benches/peers/onnxruntime_cpu.py "$model")
    printf '%s\n%s\n' "$ours" "$peer" | sed "s/^/$arch threads=$threads /"
    # seq/s of one line's name and batch, from the lines above.
    rate() { echo "$ours"$'\n'"$peer" | sed -n "s/^$1 batch=$2 seq_per_s=\([0-9.]*\).*/\1/p"; }
    for batch in ${SEQLENS_BENCH_BATCHES:-1 64}; do
      o=$(rate onnxruntime "$batch")
      for ours_name in seqlens-engine seqlens-tract; do
        s=$(rate "$ours_name" "$batch")
        [ -n "$s" ] && echo "$arch threads=$threads batch=$batch $ours_name/onnxruntime = $($PYTHON -c "print(f'{$s/$o:.2f}')")"
      done
    done
  done
done
