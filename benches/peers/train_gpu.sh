#!/usr/bin/env bash
# Training throughput on a GPU: `seqlens train --backend gpu` (wgpu: Vulkan, Metal or DX12)
# vs PyTorch on CUDA (cuDNN, fp32 without TF32) in one run, for the demo CNN, DeepBind and
# Basset: same architecture, data (examples/data/train/motifs.fa, 500 bp), split sizes, batch
# size, Adam at lr 0.002 and epochs. Throughput counts the training steps only (forward, loss,
# backward, update); seqlens reads each step's loss back to the host, PyTorch does not.
# A software adapter (lavapipe, SwiftShader) is refused: its speed means nothing.
#
#   bash benches/peers/train_gpu.sh        # ARCHS="demo deepbind basset" BATCH=64
# Needs: a GPU with a Vulkan (or Metal/DX12) driver, and pip install torch numpy with CUDA.
set -euo pipefail
cd "$(dirname "$0")/../.."
archs=${ARCHS:-demo deepbind basset}
batch=${BATCH:-64}
names=CTCF,GATA1,SPI1,FOXA1,HNF4A,CEBPB,REST,TP53
cargo build --release --quiet
cfg=$(mktemp --suffix .toml)
trap 'rm -f "$cfg"' EXIT
grep -v -E '^(augment_rc|max_shift)' examples/models/demo.toml > "$cfg"
echo "| architecture | batch | epochs | seqlens GPU seq/s | PyTorch CUDA seq/s | seqlens / PyTorch | seqlens test AUROC | PyTorch test AUROC |"
echo "|---|---|---|---|---|---|---|---|"
for arch in $archs; do
  case $arch in
    demo) model=(--config "$cfg"); epochs=${EPOCHS:-3} ;;
    *) model=(--preset "$arch" --length 500); epochs=${EPOCHS:-3} ;;
  esac
  ours=$(./target/release/seqlens train "${model[@]}" --backend gpu \
    --fasta examples/data/train/motifs.fa --label-names $names --epochs "$epochs" \
    --batch-size "$batch" --lr 0.002 --seed 7 2>&1)
  adapter=$(echo "$ours" | sed -n 's/^training steps on the GPU: //p')
  if [[ -z $adapter || $adapter == *"software adapter"* ]]; then
    echo "no hardware GPU for seqlens (${adapter:-none found}); not measuring" >&2
    exit 1
  fi
  s_rate=$(echo "$ours" | sed -n 's/.*(\([0-9.]*\) sequences\/s.*/\1/p')
  s_auc=$(echo "$ours" | awk '$1 == "mean" {print $2}')
  peer=$(python3 benches/peers/train_pytorch.py --arch "$arch" --epochs "$epochs" \
    --batch-size "$batch" --lr 0.002 --device cuda | tail -n 1)
  p_rate=$(echo "$peer" | sed -n 's/.*train_seq_per_s=\([0-9.]*\).*/\1/p')
  p_auc=$(echo "$peer" | sed -n 's/.*test_auroc=\([0-9.]*\).*/\1/p')
  ratio=$(python3 -c "print(f'{$s_rate/$p_rate:.2f}')")
  echo "| $arch | $batch | $epochs | $s_rate | $p_rate | **$ratio** | $s_auc | $p_auc |"
  echo "seqlens adapter: $adapter" >&2
done
