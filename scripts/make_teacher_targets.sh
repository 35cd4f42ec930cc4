#!/usr/bin/env bash
# Distillation targets (session 32; the shipped photo-color trained on them since session 34,
# `latent train --teacher-pairs OUT/sS:S`): the cbsd432 photos a colour model
# trains on (all but scripts/heldout_photos.py's 43, seed 11), white noise of σ S saved as 8-bit
# PNGs (scripts/make_noisy_pairs.py, seed 100 + S), and TEACHER's output in ENSEMBLE orientations
# told the true σ: OUT/sS/{noisy,clean,teacher}. Resumes: a noise set is made in OUT/sS.tmp and
# renamed when complete (an unfinished one is made again), and `latent denoise` skips outputs
# that exist.
#   scripts/make_teacher_targets.sh TEACHER OUT [SIGMAS] [ENSEMBLE]
#   (default SIGMAS "15 25 50 5 35 10 20 40", ENSEMBLE 4; about 9 minutes per σ for session 30's
#   wide4 on 2 cores of an AVX-512 Xeon)
set -euo pipefail
cd "$(dirname "$0")/.."
teacher=${1:?usage: scripts/make_teacher_targets.sh TEACHER OUT [SIGMAS] [ENSEMBLE]}
out=${2:?OUT folder}
sigmas=${3:-15 25 50 5 35 10 20 40}
ensemble=${4:-4}
data=../shared/data/denoise/cbsd432
latent=${LATENT:-.build/release/latent}
mkdir -p "$out"
held=$out/heldout43
[ -d "$held" ] || python3 scripts/heldout_photos.py $data 11 "$held" >&2
if [ ! -d "$out/train" ]; then
  rm -rf "$out/train.tmp"
  mkdir "$out/train.tmp"
  for f in "$(realpath $data)"/*.png; do [ -e "$held/$(basename "$f")" ] || ln -s "$f" "$out/train.tmp/"; done
  mv "$out/train.tmp" "$out/train"
fi
for s in $sigmas; do
  if [ ! -d "$out/s$s" ]; then
    rm -rf "$out/s$s.tmp"
    python3 scripts/make_noisy_pairs.py "$out/train" "$s" "$out/s$s.tmp" $((100 + s))
    mv "$out/s$s.tmp" "$out/s$s"
  fi
  "$latent" denoise "$out/s$s/noisy" -o "$out/s$s/teacher" --model "$teacher" --ensemble "$ensemble" --sigma "$s" --jobs 2 -q
done
