#!/usr/bin/env bash
# Scores a colour model on the issue-11 evaluation sets, blind (as a user runs it), one line per
# set: mean PSNR of the noisy inputs and of the outputs (`latent eval --pairs DIR --json`).
#   scripts/eval_suite.sh MODEL [SETS] [-- EXTRA eval FLAGS]
# MODEL: a built-in name or a .safetensors file. SETS (default all), space separated:
#   sony, canon  polyu-val's two cameras (12 and 29 pairs), real noise
#   real12       polyu-val's first 12 pairs (the issue's figures; all of them Canon's)
#   dnh          "do no harm": polyu-val's first 12 clean photos (means of many shots) as their
#                own noisy inputs
#   h43s5 h43s15 h43s25 h43s50   white noise on the 43 photos (scripts/make_noisy_pairs.py,
#                seeds 3, 1, 2, 4: session 13's files)
#   h43c15       σ 15 with ρ 0.55 of it common to the channels (seed 5)
#   jq75 jq95    scripts/make_jpeg_pairs.py's stand-in for real pairs (8 photos, quality 75 / 95)
# The sets are made on first use in EVAL_DIR (default /root/latent-runs/eval); the 43 photos are
# the ones the shipped colour model's training held out (scripts/heldout_photos.py: cbsd432,
# seed 11). LATENT: the binary (default .build/release/latent). Needs numpy, scipy, pillow.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: scripts/eval_suite.sh MODEL [SETS] [-- FLAGS]}; shift
sets="sony canon dnh h43s5 h43s15 h43s25 h43s50 h43c15"
if [ $# -gt 0 ] && [ "$1" != -- ]; then sets=$1; shift; fi
[ $# -gt 0 ] && [ "$1" = -- ] && shift
latent=${LATENT:-.build/release/latent}
ev=${EVAL_DIR:-/root/latent-runs/eval}
data=../shared/data/denoise
mkdir -p "$ev"
h43=$ev/heldout43
[ -d "$h43" ] || python3 scripts/heldout_photos.py $data/cbsd432 11 "$h43" >&2
make_set() {
  local s=$1 d=$ev/$1
  [ -d "$d" ] && return
  case $s in
    sony|canon|real12)
      local noisy list
      noisy=$(realpath $data/polyu-val)/noisy
      case $s in
        sony) list=$(ls "$noisy"/Sony_*.png) ;;
        canon) list=$(ls "$noisy"/Canon*.png) ;;
        real12) list=$(ls "$noisy"/*.png | head -12) ;;
      esac
      mkdir -p "$d.tmp/noisy" "$d.tmp/clean"
      for f in $list; do
        ln -s "$f" "$d.tmp/noisy/"; ln -s "${f/\/noisy\//\/clean\/}" "$d.tmp/clean/"
      done ;;
    dnh)
      mkdir -p "$d.tmp/noisy" "$d.tmp/clean"
      for f in $(ls "$(realpath $data/polyu-val)"/clean/*.png | head -12); do
        ln -s "$f" "$d.tmp/noisy/"; ln -s "$f" "$d.tmp/clean/"
      done ;;
    h43s5) python3 scripts/make_noisy_pairs.py "$h43" 5 "$d.tmp" 3 ;;
    h43s15) python3 scripts/make_noisy_pairs.py "$h43" 15 "$d.tmp" 1 ;;
    h43s25) python3 scripts/make_noisy_pairs.py "$h43" 25 "$d.tmp" 2 ;;
    h43s50) python3 scripts/make_noisy_pairs.py "$h43" 50 "$d.tmp" 4 ;;
    h43c15) python3 scripts/make_noisy_pairs.py "$h43" 15 "$d.tmp" 5 0.55 ;;
    jq75) python3 scripts/make_jpeg_pairs.py "$h43" "$d.tmp" --quality 75 >&2 ;;
    jq95) python3 scripts/make_jpeg_pairs.py "$h43" "$d.tmp" --quality 95 >&2 ;;
    *) echo "eval_suite.sh: unknown set $s" >&2; exit 2 ;;
  esac
  mv "$d.tmp" "$d"
}
for s in $sets; do
  make_set "$s"
  "$latent" eval --model "$model" --pairs "$ev/$s" --json -q "$@" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read().strip().splitlines()[-1])
print("%-8s %3d pairs  noisy %.2f  denoised %.2f  (%d failed)" % (sys.argv[1], d["pairs"], d["psnr_noisy"], d["psnr_denoised"], d["failed"]))' "$s"
done
