#!/usr/bin/env bash
# The exact kernels' vector paths side by side: the same `latent denoise --jobs 1` run on a folder
# with the CPU's widest path (AVX-512 where it has it) and capped at AVX2 (LATENT_SIMD=avx2),
# alternately ROUNDS times (this machine's speed drifts), with the outputs compared byte for byte
# (every path computes the same bits). Prints CPU-s per megapixel of each run and the ratio.
# Usage: bench/simd_paths.sh [DIR] [ROUNDS]   (default: ../shared/data/denoise/polyu-val/noisy, 2)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-../shared/data/denoise/polyu-val/noisy}
rounds=${2:-2}
swift build -c release --product latent >/dev/null
latent=.build/release/latent
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for r in $(seq "$rounds"); do
  for path in best avx2; do
    rm -rf "$work/$path"
    if [ "$path" = avx2 ]; then export LATENT_SIMD=avx2; else unset LATENT_SIMD; fi
    /usr/bin/time -f "%U %S %M" -o "$work/$path.$r.time" "$latent" denoise "$dir" -o "$work/$path" --jobs 1 --quiet
  done
done
unset LATENT_SIMD
same=yes
for f in "$work"/best/*.png; do cmp -s "$f" "$work/avx2/$(basename "$f")" || same=no; done
python3 - "$work" "$rounds" "$dir" "$same" <<'PY'
import os, sys
from PIL import Image
work, rounds, folder, same = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
mp = sum(Image.open(os.path.join(folder, f)).size[0] * Image.open(os.path.join(folder, f)).size[1]
         for f in os.listdir(os.path.join(work, "best"))) / 1e6
flags = open("/proc/cpuinfo").read()
print(f"# {folder}: {mp:.2f} MP; CPU has avx512f: {'avx512f' in flags}")
best, avx2 = [], []
for r in range(1, rounds + 1):
    for name, acc in (("best", best), ("avx2", avx2)):
        u, s, m = open(f"{work}/{name}.{r}.time").read().split()
        acc.append((float(u) + float(s)) / mp)
        print(f"round {r} {name:<5} {acc[-1]:.2f} CPU-s/MP  peak {int(m) / 1024:.1f} MB")
b, a = min(best), min(avx2)
print(f"best path {b:.2f} CPU-s/MP, AVX2 {a:.2f} (fastest of {rounds}): {a / b:.2f}x; outputs identical: {same}")
PY
