#!/usr/bin/env bash
# Training throughput and final test AUROC: seqlens vs PyTorch (CPU) in one run, for the
# demo CNN (examples/models/demo.toml without its augmentation, which PyTorch's loop lacks),
# DeepBind and Basset, at 1 and at 2 threads: same architecture, data
# (examples/data/train/motifs.fa, 500 bp), split sizes, batch size 64, Adam at lr 0.002 and
# epochs. Throughput counts the training steps only (forward, loss, backward, update).
#
#   bash benches/peers/train.sh            # ARCHS="demo deepbind basset" THREADS="1 2"
# Needs: pip install torch numpy (scripts/requirements.txt pins them)
set -euo pipefail
cd "$(dirname "$0")/../.."
archs=${ARCHS:-demo deepbind basset}
threads_list=${THREADS:-1 2}
names=CTCF,GATA1,SPI1,FOXA1,HNF4A,CEBPB,REST,TP53
cargo build --release --quiet
cfg=$(mktemp --suffix .toml)
trap 'rm -f "$cfg"' EXIT
grep -v -E '^(augment_rc|max_shift)' examples/models/demo.toml > "$cfg"
echo "| architecture | threads | epochs | seqlens seq/s | PyTorch seq/s | seqlens / PyTorch | seqlens test AUROC | PyTorch test AUROC |"
echo "|---|---|---|---|---|---|---|---|"
for arch in $archs; do
  case $arch in
    demo) model=(--config "$cfg"); epochs=${EPOCHS:-3} ;;
    basset) model=(--preset basset --length 500); epochs=${EPOCHS:-1} ;;
    *) model=(--preset "$arch" --length 500); epochs=${EPOCHS:-3} ;;
  esac
  for threads in $threads_list; do
    ours=$(RAYON_NUM_THREADS=$threads ./target/release/seqlens train "${model[@]}" \
      --fasta examples/data/train/motifs.fa --label-names $names --epochs "$epochs" \
      --batch-size 64 --lr 0.002 --seed 7 2>&1)
    s_rate=$(echo "$ours" | sed -n 's/.*(\([0-9.]*\) sequences\/s.*/\1/p')
    s_auc=$(echo "$ours" | awk '$1 == "mean" {print $2}')
    peer=$(python3 benches/peers/train_pytorch.py --arch "$arch" --epochs "$epochs" \
      --threads "$threads" --lr 0.002 | tail -n 1)
    p_rate=$(echo "$peer" | sed -n 's/.*train_seq_per_s=\([0-9.]*\).*/\1/p')
    p_auc=$(echo "$peer" | sed -n 's/.*test_auroc=\([0-9.]*\).*/\1/p')
    ratio=$(python3 -c "print(f'{$s_rate/$p_rate:.2f}')")
    echo "| $arch | $threads | $epochs | $s_rate | $p_rate | **$ratio** | $s_auc | $p_auc |"
  done
done
