#!/usr/bin/env bash
# Builds the npm package into pkg/: the wasm32 release build (simd128, see .cargo/config.toml),
# the threaded build beside it in pkg/threads/ (nightly Rust; SEQLENS_THREADS=0 skips it),
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
#
# With nightly Rust (which the threaded build needs anyway), std is rebuilt with the same
# profile and link-time optimisation instead of linking the prebuilt one, and panics keep
# their message but not their source file and line (-Z location-detail=none): 2.53 MB gzipped
# becomes 2.44 MB, at the same speed (BENCHMARKS.md). Without nightly the plain build still
# works, larger. RUSTFLAGS replaces .cargo/config.toml's flags, so simd128 is repeated here.
size_flags="-C target-feature=+simd128 -Z location-detail=none"
if cargo +nightly --version >/dev/null 2>&1; then
  RUSTFLAGS="$size_flags" cargo +nightly build -Z build-std=panic_abort,std \
    --profile wasm-release --target wasm32-unknown-unknown --no-default-features --features wasm \
    --target-dir target/wasm-plain
  plain=target/wasm-plain/wasm32-unknown-unknown/wasm-release/seqlens.wasm
else
  echo "note: no nightly toolchain; the plain build links the prebuilt std (about 90 KB more gzipped)" >&2
  cargo build --profile wasm-release --target wasm32-unknown-unknown --no-default-features --features wasm
  plain=target/wasm32-unknown-unknown/wasm-release/seqlens.wasm
fi
names=(--remove-name-section)
[ -n "${SEQLENS_KEEP_NAMES:-}" ] && names=()
rm -rf pkg
wasm-bindgen --target web --out-dir pkg --out-name seqlens_core "${names[@]}" "$plain"

# The threaded build (feature `threads`): the engine's kernels on a pool of Web Workers that
# share the module's memory, which needs wasm atomics, so nightly Rust rebuilding std with
# them (-Z build-std) and a shared, imported memory (up to 4 GiB, the plain build's limit).
# index.js loads it instead of the plain one inside a cross-origin isolated Worker. Its own
# target dir, so the two builds' flags never invalidate each other.
SEQLENS_THREADS=${SEQLENS_THREADS:-1}
if [ "$SEQLENS_THREADS" != 0 ]; then
  threads_flags="-C target-feature=+simd128,+atomics,+bulk-memory,+mutable-globals -Z location-detail=none"
  for a in --shared-memory --max-memory=4294967296 --import-memory --export=__wasm_init_tls \
           --export=__tls_size --export=__tls_align --export=__tls_base; do
    threads_flags+=" -C link-arg=$a"
  done
  RUSTFLAGS="$threads_flags" cargo +nightly build -Z build-std=panic_abort,std \
    --profile wasm-release --target wasm32-unknown-unknown --no-default-features --features threads \
    --target-dir target/wasm-threads
  wasm-bindgen --target web --out-dir pkg/threads --out-name seqlens_core "${names[@]}" \
    target/wasm-threads/wasm32-unknown-unknown/wasm-release/seqlens.wasm
fi
cp pkg-templates/index.js pkg-templates/node.js pkg-templates/node.cjs pkg-templates/client.js pkg-templates/worker.js pkg-templates/index.d.ts pkg-templates/README.md pkg/
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
sed "s/__VERSION__/$version/" pkg-templates/package.json > pkg/package.json
cp LICENSE-MIT pkg/ 2>/dev/null || true
for w in pkg/seqlens_core_bg.wasm pkg/threads/seqlens_core_bg.wasm; do
  [ -f "$w" ] && echo "built $w (seqlens $version): $(du -h "$w" | cut -f1), $(gzip -c "$w" | wc -c) bytes gzipped"
done
