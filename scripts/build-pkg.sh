#!/usr/bin/env bash
# Builds the npm package into pkg/: the wasm32 release build (simd128, see .cargo/config.toml),
# wasm-bindgen's ES module glue, and the hand-written wrapper and types from pkg-templates/.
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p}' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')
if [ "$want" != "$have" ]; then
  echo "error: wasm-bindgen CLI ${have:-missing} does not match the crate version $want;" >&2
  echo "       run: cargo install wasm-bindgen-cli --version $want" >&2
  exit 1
fi

# The wasm-release profile (Cargo.toml) optimises dependencies for size and the kernels for
# speed. The name section (function names for stack traces, 2 MB raw, ~0.5 MB gzipped) is
# dropped unless SEQLENS_KEEP_NAMES is set, for debugging.
cargo build --profile wasm-release --target wasm32-unknown-unknown --no-default-features --features wasm
names=(--remove-name-section)
[ -n "${SEQLENS_KEEP_NAMES:-}" ] && names=()
rm -rf pkg
wasm-bindgen --target web --out-dir pkg --out-name seqlens_core "${names[@]}" \
  target/wasm32-unknown-unknown/wasm-release/seqlens.wasm
cp pkg-templates/index.js pkg-templates/node.js pkg-templates/client.js pkg-templates/worker.js pkg-templates/index.d.ts pkg-templates/README.md pkg/
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
sed "s/__VERSION__/$version/" pkg-templates/package.json > pkg/package.json
cp LICENSE-MIT pkg/ 2>/dev/null || true
echo "built pkg/ (seqlens $version): $(du -h pkg/seqlens_core_bg.wasm | cut -f1) wasm, $(gzip -c pkg/seqlens_core_bg.wasm | wc -c) bytes gzipped"
