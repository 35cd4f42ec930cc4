#!/usr/bin/env bash
# Two `latent` binaries side by side (before and after a change): the same `latent denoise --jobs 1`
# run on a folder with each, alternately ROUNDS times (this machine's speed drifts by ±20% from
# run to run), with the outputs compared byte for byte. Prints CPU-s per megapixel of each run
# with the core's clock just before it (bench/core_clock.c, where a C compiler is found), the
# median of each and their ratio.
# Usage: bench/two_binaries.sh OLD NEW [DIR] [ROUNDS] [-- EXTRA denoise FLAGS]
#   (default DIR ../shared/data/denoise/polyu-val/noisy, ROUNDS 5). OLD and NEW are commands,
#   split at spaces: a binary, or e.g. "env LATENT_SIMD=avx2 .build/release/latent"
#   (bench/simd_paths.sh).
# e.g. git worktree add /tmp/old HEAD~1 && (cd /tmp/old && swift build -c release --product latent)
#      bench/two_binaries.sh /tmp/old/.build/release/latent .build/release/latent DIR 7
# OLD_FLAGS and NEW_FLAGS (split at spaces) go to one side only: two models through one binary,
#      OLD_FLAGS="--model photo-color" NEW_FLAGS="--model new.safetensors" \
#        bench/two_binaries.sh .build/release/latent .build/release/latent DIR 5
set -euo pipefail
old=${1:?usage: bench/two_binaries.sh OLD NEW [DIR] [ROUNDS] [-- FLAGS]}; new=${2:?NEW binary}; shift 2
dir=${1:-../shared/data/denoise/polyu-val/noisy}; [ $# -gt 0 ] && shift
rounds=${1:-5}; [ $# -gt 0 ] && shift
[ $# -gt 0 ] && [ "$1" = -- ] && shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
clock=true
for cc in "${CC:-cc}" clang gcc; do
  if command -v "$cc" > /dev/null && "$cc" -O2 -o "$work/core_clock" "$(dirname "$0")/core_clock.c" 2> /dev/null; then clock="$work/core_clock"; break; fi
done
for r in $(seq "$rounds"); do
  for which in old new; do
    bin=$old; flags=${OLD_FLAGS:-}; [ "$which" = new ] && { bin=$new; flags=${NEW_FLAGS:-}; }
    read -r -a cmd <<< "$bin"
    read -r -a side <<< "$flags"
    rm -rf "${work:?}/$which"
    "$clock" > "$work/$which.$r.clock"
    /usr/bin/time -f "%U %S %M" -o "$work/$which.$r.time" "${cmd[@]}" denoise "$dir" -o "$work/$which" --jobs 1 --quiet ${side[@]+"${side[@]}"} "$@"
  done
done
same=yes
for f in "$work"/old/*.png; do cmp -s "$f" "$work/new/$(basename "$f")" || same=no; done
python3 - "$work" "$rounds" "$dir" "$same" <<'PY'
import os, statistics, sys
from PIL import Image
work, rounds, folder, same = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
mp = sum(Image.open(os.path.join(folder, f)).size[0] * Image.open(os.path.join(folder, f)).size[1]
         for f in os.listdir(os.path.join(work, "old"))) / 1e6
print(f"# {folder}: {mp:.2f} MP in {len(os.listdir(os.path.join(work, 'old')))} files")
runs = {"old": [], "new": []}
for r in range(1, rounds + 1):
    for name in ("old", "new"):
        u, s, m = open(f"{work}/{name}.{r}.time").read().split()
        runs[name].append((float(u) + float(s)) / mp)
        clock = open(f"{work}/{name}.{r}.clock").read().strip()
        at = f"  core clock {clock} GHz ({runs[name][-1] * float(clock):.1f} G cycles/MP)" if clock not in ("", "n/a") else ""
        print(f"round {r} {name} {runs[name][-1]:.2f} CPU-s/MP  peak {int(m) / 1024:.1f} MB{at}")
o, n = statistics.median(runs["old"]), statistics.median(runs["new"])
print(f"median of {rounds}: old {o:.2f} CPU-s/MP, new {n:.2f}: new takes {n / o:.2f}x the time of old; outputs identical: {same}")
PY
