#!/usr/bin/env bash
# The whole test suite, on a fresh machine with only the Rust toolchain and Python 3:
# installs what the tests need, builds, runs every test, checks the shipped scripts and
# smoke-runs the benchmark. The README's second quick-start command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")"

# Debug info is not needed to run tests; line tables keep backtraces useful.
export CARGO_PROFILE_DEV_DEBUG=line-tables-only
export CARGO_TERM_COLOR=never

echo "==> installing test dependencies (moto AWS emulator)"
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r tests/requirements.txt

echo "==> cargo test (unit, property and black-box tests; benches once in test mode)"
cargo test --all-targets
cargo test --doc

echo "==> okscript check scripts/*.rhai"
./target/debug/okscript check scripts/*.rhai

echo "==> benchmark smoke run"
python3 bench/run.py --smoke --binary target/debug/okscript
