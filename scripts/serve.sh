#!/usr/bin/env bash
# Builds the npm package if needed, then serves the www/ page with the bundled model on
# http://127.0.0.1:${1:-8000}/www/ . Needs Rust with the wasm32 target, wasm-bindgen-cli at the
# crate's version (see .ci/run) and Node >= 18.
set -euo pipefail
cd "$(dirname "$0")/.."
# Rebuild when the package is missing or older than its sources.
if [ ! -f pkg/seqlens_core_bg.wasm ] || [ -n "$(find src pkg-templates Cargo.toml -newer pkg/seqlens_core_bg.wasm | head -n 1)" ]; then
  bash scripts/build-pkg.sh
fi
exec node scripts/serve.mjs "${1:-8000}"
