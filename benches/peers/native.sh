#!/usr/bin/env bash
# Native prediction, seqlens (tract) vs onnxruntime (Python, 1 thread), same model, same
# batches, one run: prints both throughputs and their ratio per batch size.
# Needs: pip install -r scripts/requirements.txt
set -euo pipefail
cd "$(dirname "$0")/../.."
model=${SEQLENS_BENCH_MODEL:-benches/peers/deepsea.onnx}
python3 benches/peers/make_deepsea.py "$model" >/dev/null
export SEQLENS_BENCH_MODEL=$model
ours=$(cargo bench --quiet --bench predict 2>/dev/null | grep '^seqlens-tract')
peer=$(python3 benches/peers/onnxruntime_cpu.py "$model")
echo "$ours"
echo "$peer"
paste <(echo "$ours") <(echo "$peer") | while read -r a b c d e f; do
  s=${b#*=}; o=${b#*=}
  s=$(echo "$a $b $c" | sed -n 's/.*seq_per_s=\([0-9.]*\).*/\1/p')
  o=$(echo "$d $e $f" | sed -n 's/.*seq_per_s=\([0-9.]*\).*/\1/p')
  echo "${b}: seqlens/onnxruntime = $(python3 -c "print(f'{$s/$o:.2f}')")"
done
