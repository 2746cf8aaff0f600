#!/usr/bin/env bash
# BPNet training throughput: seqlens' bpnet preset vs bpnet-lite 1.1 (PyTorch, CPU) in one
# run, at 1 and at 2 threads: the same architecture (64 filters, 8 dilated layers, 2114-base
# input, a 1000-position stranded profile and a count), data, batch size 64, Adam at 1e-3,
# gradient norm clipped to 1, and bpnet-lite's two-output loss. The data are random
# sequences with Poisson counts (written here); throughput counts the training steps only.
#
#   bash benches/peers/train_bpnet.sh        # N=512 EPOCHS=1 THREADS="1 2"
# Needs: scripts/requirements.txt and scripts/requirements-bpnet.txt (bpnet-lite, --no-deps)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${N:-512}
epochs=${EPOCHS:-1}
threads_list=${THREADS:-1 2}
cargo build --release --quiet
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cfg="$dir/bpnet.toml"
printf '[train]\nclip_norm = 1.0\noptimizer = { type = "adam", lr = 0.001 }\n' > "$cfg"
python3 - "$dir" "$n" <<'PY'
import sys
import numpy as np
d, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(1)
with open(f"{d}/seqs.fa", "w") as f:
    for i in range(n):
        f.write(f">s{i}\n{''.join(rng.choice(list('ACGT'), 2114))}\n")
with open(f"{d}/counts.tsv", "w") as f:
    f.write("id\t" + "\t".join([f"plus_{j}" for j in range(1000)] + [f"minus_{j}" for j in range(1000)]) + "\n")
    for i in range(n):
        f.write(f"s{i}\t" + "\t".join(map(str, rng.poisson(0.1, 2000))) + "\n")
PY
echo "| threads | epochs | sequences | seqlens seq/s | bpnet-lite seq/s | seqlens / bpnet-lite |"
echo "|---|---|---|---|---|---|"
for threads in $threads_list; do
  ours=$(RAYON_NUM_THREADS=$threads ./target/release/seqlens train --preset bpnet --length 2114 \
    --config "$cfg" --fasta "$dir/seqs.fa" --labels "$dir/counts.tsv" --valid-frac 0 \
    --test-frac 0 --epochs "$epochs" --batch-size 64 --seed 7 2>&1)
  s_rate=$(echo "$ours" | sed -n 's/.*(\([0-9.]*\) sequences\/s.*/\1/p')
  peer=$(python3 benches/peers/train_bpnet_lite.py --fasta "$dir/seqs.fa" --labels "$dir/counts.tsv" \
    --epochs "$epochs" --threads "$threads" | tail -n 1)
  p_rate=$(echo "$peer" | sed -n 's/.*train_seq_per_s=\([0-9.]*\).*/\1/p')
  ratio=$(python3 -c "print(f'{$s_rate/$p_rate:.2f}')")
  echo "| $threads | $epochs | $n | $s_rate | $p_rate | **$ratio** |"
done
