#!/usr/bin/env bash
# Builds the Python package's wheel with maturin from PyPI, installs it into a fresh venv
# with the pinned test dependencies, and runs the pytest suite (tests/python) against it.
# Needs: Rust, python3 with venv, and the seqlens CLI built (target/debug/seqlens, or set
# SEQLENS_CLI), which the tests compare with. Registries only: PyPI for maturin, numpy, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/target/python
rm -rf "$work/wheels" "$work/venv"
mkdir -p "$work"
if [ ! -x "$work/build/bin/maturin" ]; then
  python3 -m venv "$work/build"
  "$work/build/bin/pip" install -q --disable-pip-version-check maturin==1.16.0
fi
# The test profile (optimised, with line tables): a release build would compile every
# dependency again with LTO, for tests that do not measure speed.
"$work/build/bin/maturin" build --profile dev --out "$work/wheels"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check numpy==2.3.5 pytest==9.0.3 \
  "$work"/wheels/seqlens-*.whl
# From outside the checkout, so `import seqlens` is the installed wheel and not python/.
cd "$work"
SEQLENS_CLI="${SEQLENS_CLI:-$root/target/debug/seqlens}" \
  "$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$root/tests/python"
