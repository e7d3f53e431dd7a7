#!/usr/bin/env bash
# EncryptData throughput vs. a minimal axum server answering a fixed 200, in one run.
# Usage: bench/encrypt.sh   (BENCH_SECONDS=5 BENCH_ROUNDS=3 BENCH_CONNECTIONS=64 by default)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --profile dist --bin dewstack --example bench_encrypt
DEWSTACK_BIN="${DEWSTACK_BIN:-$PWD/target/dist/dewstack}" exec target/dist/examples/bench_encrypt
