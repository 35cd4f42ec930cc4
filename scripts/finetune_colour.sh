#!/usr/bin/env bash
# Fine-tunes the colour model's denoiser (issue 11 experiments): run 1's recipe and seed (the seed
# picks the 43 validation photos, so they are the ones run 1 never trained on), a new cosine
# schedule of 10 epochs from 2e-4, plus the given training flags.
#   scripts/finetune_colour.sh NAME FLAG...   trains in /root/latent-runs/NAME/ (log, checkpoint);
#                                             again after an interruption: it passes --resume when
#                                             the checkpoint is there
# It starts from run 1's denoiser (/root/latent-runs/colour1/colour.safetensors), or, where that
# file is missing, from the shipped model's denoiser (the built-in file without its estimator.*
# tensors; since session 10 that is run 5, run 1 fine-tuned with --log-loss, not run 1 itself,
# and the script says so). INIT=FILE (which must exist) or INIT=shipped, EPOCHS=N and LR=X
# override the start and schedule, PATCH=N, BATCH=N and STEPS=N the patches (96, 12, 250 a step
# and an epoch).
# Then, to ship one:
#   python3 scripts/bundle_estimator.py /root/latent-runs/NAME/colour.safetensors \
#     ESTIMATOR.safetensors Sources/Models/Builtin/photo-color.safetensors
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: scripts/finetune_colour.sh NAME FLAG...}; shift
if [ -n "${INIT:-}" ] && [ "$INIT" != shipped ] && [ ! -f "$INIT" ]; then echo "finetune_colour.sh: INIT=$INIT: no such file" >&2; exit 2; fi
run=/root/latent-runs/$name
mkdir -p "$run"
[ -x "$run/latent-train-bin" ] || { swift build -c release --product latent; cp .build/release/latent "$run/latent-train-bin"; }
init=${INIT:-/root/latent-runs/colour1/colour.safetensors}
if [ ! -f "$init" ]; then
  [ "$init" = shipped ] || echo "finetune_colour.sh: $init is missing: starting from the shipped photo-color's denoiser (run 5)" >&2
  init=$run/init.safetensors
  python3 - "$init" <<'PY'
import sys; sys.path.insert(0, "scripts")
from safetensors_io import read, write
meta, tensors = read("Sources/Models/Builtin/photo-color.safetensors")
for k in [k for k in meta if k.startswith("estimator")]: meta.pop(k)
write(sys.argv[1], meta, {k: v for k, v in tensors.items() if not k.startswith("estimator.")})
PY
fi
resume=(); [ -f "$run/colour.ckpt.safetensors" ] && resume=(--resume)
nohup "$run/latent-train-bin" train --model conv-dae --rgb --noise-map --camera-noise 0.5 --jpeg 0.5 --camera-processing --coarse-noise --png-noise 1 --blocks 2 \
  "$@" --noise gaussian:0-60/255 --data ../shared/data/denoise/cbsd432 --patch "${PATCH:-96}" --batch "${BATCH:-12}" --steps-per-epoch "${STEPS:-250}" --epochs "${EPOCHS:-10}" --lr "${LR:-2e-4}" \
  --seed 11 --workers 2 --init-from "$init" -o "$run/colour.safetensors" "${resume[@]}" >> "$run/train.log" 2>&1 &
echo "training in the background: tail -f $run/train.log"
