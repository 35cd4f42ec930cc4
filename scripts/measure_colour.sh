#!/usr/bin/env bash
# Every figure of README's colour section for one colour model, before it is shipped (or after):
# the colour_bench rows against CBM3D, do no harm, the ensemble table, and its speed and memory
# beside the shipped model's. One file per step in OUT; a step whose file exists is not run again
# (run the script again after an interruption).
#   scripts/measure_colour.sh MODEL OUT [STEPS]
# MODEL: a .safetensors file (the estimator bundled: scripts/bundle_estimator.py) or a built-in
# name. STEPS (default all, space separated): bench dnh ensemble speed big.
#   bench     bench/colour_bench.py's README rows (CBM3D's results cached in CBM3D_CACHE, default
#             /root/latent-runs/cbm3d-cache: the first run costs about an hour of CBM3D on 2 cores)
#   dnh       the 12 clean polyu-val photos as their own noisy inputs
#   ensemble  latent eval --ensemble 1, 2, 4, 8 on h43s5 h43s15 h43s25 real12 dnh
#   speed     bench/two_binaries.sh, the shipped photo-color against MODEL through one binary, on
#             the 43 held-out photos (5 rounds) and polyu-val's 41 shots (3 rounds)
#   big       a 4000x3000 RGB photo, --jobs 1: peak RSS and CPU time beside photo-color's (2 rounds)
# Run it on a quiet machine: the speed steps time the whole process. The README's crop
# (scripts/make_polyu_crop.py) uses the built-in model, so it is made after shipping.
# Needs: pip install bm3d numpy pillow scipy; swift build -c release (LATENT overrides the binary).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: scripts/measure_colour.sh MODEL OUT [STEPS]}
out=${2:?OUT folder}
steps=${3:-bench dnh ensemble speed big}
latent=${LATENT:-.build/release/latent}
export LATENT=$latent
cache=${CBM3D_CACHE:-/root/latent-runs/cbm3d-cache}
ev=${EVAL_DIR:-/root/latent-runs/eval}
data=../shared/data/denoise
mkdir -p "$out"
[ -d "$ev/heldout43" ] || python3 scripts/heldout_photos.py $data/cbsd432 11 "$ev/heldout43" >&2
# step NAME COMMAND...: runs COMMAND into OUT/NAME.txt unless that file exists, then shows it.
step() {
  local name=$1; shift
  if [ ! -s "$out/$name.txt" ]; then
    echo "== $name: $*" >&2
    "$@" > "$out/$name.txt.tmp"
    mv "$out/$name.txt.tmp" "$out/$name.txt"
  fi
  echo "== $name"; cat "$out/$name.txt"
}
bench() { python3 bench/colour_bench.py "$@" --model "$model" --cache "$cache"; }
for s in $steps; do
  case $s in
    bench)
      step bench-real41 bench pairs $data/polyu-val --cbm3d-sigmas 15
      step bench-real12 bench pairs $data/polyu-val --cbm3d-sigmas 15 --limit 12
      step bench-s5 bench awgn "$ev/heldout43" --sigmas 5 --limit 16
      step bench-s25-15 bench awgn "$ev/heldout43" --sigmas 25,15
      step bench-s50 bench awgn "$ev/heldout43" --sigmas 50 --limit 8
      step bench-clean8 bench awgn $data/polyu-val/clean --limit 8 ;;
    dnh) step dnh scripts/eval_suite.sh "$model" dnh ;;
    ensemble)
      for n in 1 2 4 8; do step "ensemble$n" scripts/eval_suite.sh "$model" "h43s5 h43s15 h43s25 real12 dnh" -- --ensemble "$n"; done ;;
    speed)
      # eval_suite.sh makes the h43s25 set (scoring the model on it) when it is missing.
      [ -d "$ev/h43s25" ] || EVAL_DIR=$ev scripts/eval_suite.sh "$model" h43s25 > /dev/null
      step speed-h43 env OLD_FLAGS="--model photo-color" NEW_FLAGS="--model $model" \
        bench/two_binaries.sh "$latent" "$latent" "$ev/h43s25/noisy" 5
      step speed-real41 env OLD_FLAGS="--model photo-color" NEW_FLAGS="--model $model" \
        bench/two_binaries.sh "$latent" "$latent" $data/polyu-val/noisy 3 ;;
    big)
      big=/tmp/latent-measure-big
      [ -f "$big/big.png" ] || { mkdir -p "$big"; python3 bench/make_big_png.py "$big/big.png" 4000 3000 --rgb > /dev/null; }
      step big env OLD_FLAGS="--model photo-color" NEW_FLAGS="--model $model" \
        bench/two_binaries.sh "$latent" "$latent" "$big" 2 ;;
    *) echo "measure_colour.sh: unknown step $s" >&2; exit 2 ;;
  esac
done
