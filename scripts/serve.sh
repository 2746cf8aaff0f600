#!/usr/bin/env bash
# Builds the npm package if there is none, then serves the www/ page with the bundled model on
# http://127.0.0.1:${1:-8000}/www/ . Needs Rust with the wasm32 target, wasm-bindgen-cli at the
# crate's version (see .ci/run) and Node >= 18.
set -euo pipefail
cd "$(dirname "$0")/.."
# Builds the package only when there is none: a built package shows the page without a Rust
# toolchain. One older than its sources is served with a note on how to rebuild it.
if [ ! -f pkg/seqlens_core_bg.wasm ]; then
  bash scripts/build-pkg.sh
elif [ -n "$(find src pkg-templates Cargo.toml -newer pkg/seqlens_core_bg.wasm 2>/dev/null | head -n 1)" ]; then
  echo "note: pkg/ is older than src/ or pkg-templates/; run 'bash scripts/build-pkg.sh' to rebuild it" >&2
fi
exec node scripts/serve.mjs "${1:-8000}"
