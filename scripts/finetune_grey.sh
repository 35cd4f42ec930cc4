#!/usr/bin/env bash
# Issue 11, "if training the grey model on the luminance of cbsd432/ as well as train400/ makes it
# better, do it": fine-tunes the shipped grey `photo` model on one of two folders, built here as
# symlinks (the trainer reads colour PNGs as their Rec. 709 luma for a grey model):
#   mix   train400/ and cbsd432/ without the 43 photos the colour model holds out
#         (/root/latent-runs/heldout43, scripts/heldout_photos.py), which stay unseen for scoring
#   t400  train400/ alone (the control: the same schedule on the shipped model's data)
# Both take the shipped model's third-run recipe (--blocks 1 --noise-input, 96-pixel patches,
# batch 12, σ 0-55), half of the noisy patches rounded to 8 bits as saved PNGs are
# (--png-noise 0.5), a cosine schedule of EPOCHS (8) from LR (1e-4), one worker each (the two
# arms run side by side on this 2-core machine).
#   scripts/finetune_grey.sh mix|t400     log and checkpoint in /root/latent-runs/grey/ARM/;
#                                         again after an interruption: it resumes
set -euo pipefail
cd "$(dirname "$0")/.."
arm=${1:?usage: scripts/finetune_grey.sh mix|t400}
D=$(cd ../shared/data/denoise && pwd)
run=/root/latent-runs/grey/$arm
mkdir -p "$run/data"
if [ -z "$(ls "$run/data")" ]; then
  for f in "$D"/train400/*.png; do ln -s "$f" "$run/data/t400_$(basename "$f")"; done
  if [ "$arm" = mix ]; then
    [ -d /root/latent-runs/heldout43 ] || { echo "finetune_grey.sh: /root/latent-runs/heldout43 missing: python3 scripts/heldout_photos.py $D/cbsd432 11 /root/latent-runs/heldout43" >&2; exit 2; }
    for f in "$D"/cbsd432/*.png; do b=$(basename "$f"); [ -e "/root/latent-runs/heldout43/$b" ] || ln -s "$f" "$run/data/c_$b"; done
  fi
fi
[ -x "$run/latent-train-bin" ] || { swift build -c release --product latent; cp .build/release/latent "$run/latent-train-bin"; }
resume=(); [ -f "$run/photo.ckpt.safetensors" ] && resume=(--resume)
nohup "$run/latent-train-bin" train --model conv-dae --data "$run/data" --val-data "$D/set12" --noise gaussian:0-55/255 \
  --init-from Sources/Models/Builtin/photo.safetensors --blocks 1 --noise-input --png-noise 0.5 \
  --patch 96 --batch 12 --steps-per-epoch 250 --epochs "${EPOCHS:-8}" --lr "${LR:-1e-4}" --seed 21 --workers 1 \
  -o "$run/photo.safetensors" "${resume[@]}" >> "$run/train.log" 2>&1 &
echo "training in the background: tail -f $run/train.log"
