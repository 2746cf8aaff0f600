#!/usr/bin/env bash
# Runs every test: Rust (unit, integration, doc), then the npm package in Node and in headless
# Chromium. Needs: Rust with the wasm32 target, wasm-bindgen-cli at the crate's version,
# Node >= 18 and Debian's chromium (.ci/run installs all of them).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Rust tests (unit, CLI, golden, doc): cargo test"
cargo test

echo "== native CLI predictions for the cross-check in Chromium"
mkdir -p target/ci
cargo run --quiet -- predict --model examples/models/demo.onnx \
  --fasta examples/data/sample.fa --out target/ci/native-sample.tsv

echo "== npm package (wasm32, simd128)"
bash scripts/build-pkg.sh

echo "== Node and headless Chromium tests"
(cd tests/js && npm ci --no-audit --no-fund)
(cd tests/js && SEQLENS_NATIVE_TSV="$PWD/../../target/ci/native-sample.tsv" \
  node --test --test-concurrency=1 .)
