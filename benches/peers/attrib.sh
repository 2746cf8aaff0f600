#!/usr/bin/env bash
# Attribution against tangermeme on one pinned core, in one run, on the same Basset model
# (1,000 bp, 164 outputs; benches/peers/attrib_tangermeme.py exports it) and the same
# sequences: DeepLIFT/SHAP with 20 dinucleotide shuffles, fast ISM, ISM (seconds per
# sequence), greedy design (3 rounds over 100 positions of one sequence, maximising output 0;
# seqlens scores by fast ISM, and by predicting every mutant as design-ism, against
# tangermeme's greedy_substitution; seconds per design), seqlets over 1,000 tracks of 1,000
# positions (seconds per track; seqlens' time includes reading the tracks' attribution table), and TOMTOM annotation of 500 seqlets
# against the bundled JASPAR 2024 (seconds per seqlet; seqlens' time includes reading and
# preparing the database, tangermeme's does not). Prints each line and the ratios
# (> 1: seqlens faster).
# Needs: pip install -r scripts/requirements.txt (tangermeme brings torch); cargo.
# N sequences (default 2), CORE the core (default 0), PYTHON the interpreter.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-2}
CORE=${CORE:-0}
PYTHON=${PYTHON:-python3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo build --release --quiet
bin=target/release/seqlens
taskset -c "$CORE" "$PYTHON" benches/peers/attrib_tangermeme.py "$dir" "$N" | tee "$dir/peer.txt"
# seconds per sequence of one seqlens run, one thread, the faster of two runs
per() {
  local best=
  for _ in 1 2; do
    local t0 t1
    t0=$(date +%s.%N)
    RAYON_NUM_THREADS=1 taskset -c "$CORE" "$bin" "$@" > /dev/null 2>&1
    t1=$(date +%s.%N)
    best=$(awk -v a="$best" -v b="$(echo "$t1 - $t0" | bc)" 'BEGIN { print (a == "" || b < a) ? b : a }')
  done
  echo "$best"
}
m=(-m "$dir/basset.onnx" -f "$dir/seqs.fa" --target 'y[0]' --out "$dir/out.tsv")
{
  echo "seqlens deeplift-shap $(echo "$(per attribute "${m[@]}" --method deeplift-shap) / $N" | bc -l)"
  echo "seqlens fast-ism $(echo "$(per attribute "${m[@]}" --method fast-ism) / $N" | bc -l)"
  echo "seqlens ism $(echo "$(per attribute "${m[@]}" --method ism --backend cpu) / $N" | bc -l)"
  head -2 "$dir/seqs.fa" > "$dir/first.fa"
  d=(design -m "$dir/basset.onnx" -f "$dir/first.fa" --labels 'y[0]' --edits 3 --region 450-550 --tol 0 --out "$dir/design.tsv")
  echo "seqlens design $(per "${d[@]}")"
  echo "seqlens design-ism $(per "${d[@]}" --scoring ism --backend cpu)"
  awk 'BEGIN { print "id\tchrom\tpos\tref\tA\tC\tG\tT\tscore" }
       { for (p = 1; p <= NF; p++) printf "t%d\tt%d\t%d\tA\t0\t0\t0\t0\t%s\n", NR, NR, p - 1, $p }' \
    "$dir/tracks.txt" > "$dir/tracks.tsv"
  echo "seqlens seqlets $(echo "$(per seqlets -a "$dir/tracks.tsv") / 1000" | bc -l)"
  # The same call in memory, as tangermeme's is timed (benches/seqlets.rs).
  RAYON_NUM_THREADS=1 taskset -c "$CORE" cargo bench --quiet --bench seqlets -- "$dir/tracks.txt" \
    | awk '/seqlets-in-memory/ { print "seqlens seqlets-in-memory", $3 }'
  echo "seqlens annotate $(echo "$(per motifs --query "$dir/seqlets.meme" --top 1) / 500" | bc -l)"
} | tee "$dir/ours.txt"
awk 'NR == FNR { peer[$2] = $3; next }
     { key = ($2 == "design-ism") ? "design" : ($2 == "seqlets-in-memory") ? "seqlets" : $2
       printf "ratio\t%s\ttangermeme %.4g s / seqlens %.4g s\t%.2fx\n", $2, peer[key], $3, peer[key] / $3 }' \
  "$dir/peer.txt" "$dir/ours.txt"
