#!/usr/bin/env bash
# Runs every check: rustfmt and clippy (native and wasm32), Rust tests (unit, integration,
# doc), the Python package's wheel in a fresh venv, then the npm package in Node and in
# headless Chromium, and its npm pack tarball in Vite and webpack apps (tests/js). Needs: Rust
# with the wasm32 target, wasm-bindgen-cli at the crate's version, Node >= 18, python3 with
# venv, Debian's chromium, bcftools and python3-pybigwig, nightly Rust and cargo-fuzz
# (.ci/run installs all of them).
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step's header carries the seconds since the start, so a slow step shows in the log.
start=$(date +%s)
step() { echo; echo "== [$(( $(date +%s) - start ))s] $*"; }

# One feature set (with the GPU backend) for every native build, so dependencies compile once.
FEATURES=(--features gpu)

step "format and lints, native and wasm32 (warnings are errors)"
cargo fmt --check
cargo clippy --all-targets --all-features -- -D warnings
cargo clippy --target wasm32-unknown-unknown --no-default-features --features wasm -- -D warnings

step "Rust tests (unit, CLI, golden, doc, and the GPU kernels on Mesa's lavapipe)"
# The GPU tests run on software Vulkan (correctness only, never speed) and must find it:
# SEQLENS_REQUIRE_GPU turns a missing adapter into a failure. Mesa wants a private runtime
# dir; WGPU_BACKEND pins Vulkan so that no other backend stands in.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR"
# SEQLENS_REQUIRE_BCFTOOLS and SEQLENS_REQUIRE_PYBIGWIG: bcftools must read the VCF output and
# pyBigWig the bigWig output (tests/cli.rs), not be skipped.
WGPU_BACKEND=vulkan SEQLENS_REQUIRE_GPU=1 SEQLENS_REQUIRE_BCFTOOLS=1 SEQLENS_REQUIRE_PYBIGWIG=1 \
  cargo test "${FEATURES[@]}"

step "native CLI predictions for the cross-check in Chromium"
mkdir -p target/ci
cargo run --quiet "${FEATURES[@]}" -- predict --model examples/models/demo.onnx \
  --fasta examples/data/sample.fa --out target/ci/native-sample.tsv

step "Python package: the wheel (maturin) installed into a fresh venv, then pytest"
bash scripts/test-python.sh

step "Snakemake workflow: shards merged equal one run (snakemake from PyPI, local cores)"
bash workflows/snakemake/test.sh

step "npm package (wasm32, simd128)"
bash scripts/build-pkg.sh

step "Node and headless Chromium tests"
(cd tests/js && npm ci --no-audit --no-fund)
# SEQLENS_PRESETS_DIR: every preset's ONNX file and CPU-engine outputs, written by the Rust
# GPU test above, for the WebGPU parity test in Chromium (SwiftShader).
(cd tests/js && SEQLENS_NATIVE_TSV="$PWD/../../target/ci/native-sample.tsv" \
  SEQLENS_PRESETS_DIR="$PWD/../../target/tmp/presets" \
  node --test --test-concurrency=1 .)

step "fuzzing: every target over its committed corpus, 10,000 fixed inputs each, at most 30 s (fuzz/run.sh)"
RUNS=10000 SEED=1 bash fuzz/run.sh 30
step "all checks passed"
