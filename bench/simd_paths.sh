#!/usr/bin/env bash
# The exact kernels' vector paths side by side: the same `latent denoise --jobs 1` run on a folder
# capped at AVX2 (LATENT_SIMD=avx2, "old") and with the CPU's widest path (AVX-512 where it has
# it, "new"), alternately ROUNDS times, the outputs compared byte for byte (every path computes
# the same bits): bench/two_binaries.sh on the two settings of one build. Prints CPU-s per
# megapixel of each run, the medians and their ratio.
# Usage: bench/simd_paths.sh [DIR] [ROUNDS]   (default: ../shared/data/denoise/polyu-val/noisy, 2)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-../shared/data/denoise/polyu-val/noisy}
rounds=${2:-2}
swift build -c release --product latent >/dev/null
grep -q avx512f /proc/cpuinfo && echo "# the CPU has AVX-512" || echo "# the CPU has no AVX-512: both runs take AVX2"
exec bench/two_binaries.sh "env LATENT_SIMD=avx2 .build/release/latent" .build/release/latent "$dir" "$rounds"
