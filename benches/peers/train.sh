#!/usr/bin/env bash
# Training throughput and final test AUROC: seqlens vs PyTorch (CPU), same architecture
# (the demo CNN, or Basset with ARCH=basset), same data (examples/data/train/motifs.fa),
# same split sizes, batch size, optimiser, epochs and thread count, in one run.
# Needs: pip install torch numpy
set -euo pipefail
cd "$(dirname "$0")/../.."
arch=${ARCH:-demo}
epochs=${EPOCHS:-12}
threads=${THREADS:-$(nproc)}
names=CTCF,GATA1,SPI1,FOXA1,HNF4A,CEBPB,REST,TP53
cargo build --release --quiet
if [ "$arch" = demo ]; then
  model=(--config examples/models/demo.toml)
else
  model=(--preset "$arch" --length 500)
fi
ours=$(RAYON_NUM_THREADS=$threads ./target/release/seqlens train "${model[@]}" --fasta examples/data/train/motifs.fa \
  --label-names $names --epochs "$epochs" --lr 0.002 --seed 7 2>&1)
s_rate=$(echo "$ours" | sed -n 's/.*(\([0-9.]*\) sequences\/s.*/\1/p')
s_auc=$(echo "$ours" | awk '$1 == "mean" {print $2}')
peer=$(python3 benches/peers/train_pytorch.py --arch "$arch" --epochs "$epochs" --threads "$threads" --lr 0.002 | tail -n 1)
p_rate=$(echo "$peer" | sed -n 's/.*train_seq_per_s=\([0-9.]*\).*/\1/p')
p_auc=$(echo "$peer" | sed -n 's/.*test_auroc=\([0-9.]*\).*/\1/p')
echo "arch=$arch epochs=$epochs threads=$threads"
echo "seqlens  train_seq_per_s=$s_rate test_auroc=$s_auc"
echo "pytorch  train_seq_per_s=$p_rate test_auroc=$p_auc"
python3 -c "print(f'seqlens/pytorch throughput = {$s_rate/$p_rate:.2f}')"
