#!/usr/bin/env bash
# Colour model, run 3 (issue 11): fine-tunes run 1's denoiser (scripts/train_colour.sh, 80 epochs)
# with --flat-camera-maps: `latent denoise` gives the model a measured noise level function's
# mean per channel, the same at every pixel, so camera-like training patches get that too (run 1
# saw flat maps only with white noise, and learnt a flat map as the sign of white noise).
# Same noise recipe and seed as run 1's last epochs (the seed picks the 43 validation photos, so
# they are the ones run 1 never trained on); a new cosine schedule of 10 epochs from 2e-4.
# Checkpoint and log in /root/latent-runs/colour3/.
#   scripts/train_colour3.sh            start (or continue: it passes --resume when a checkpoint is there)
# Without run 1's output (a fresh machine) it starts from the shipped model's denoiser (the
# built-in file without its estimator.* tensors), which is run 1's final weights.
# Then: python3 scripts/bundle_estimator.py /root/latent-runs/colour3/colour.safetensors \
#         ESTIMATOR.safetensors Sources/Models/Builtin/photo-color.safetensors
set -euo pipefail
cd "$(dirname "$0")/.."
run=/root/latent-runs/colour3
mkdir -p "$run"
[ -x "$run/latent-train-bin" ] || { swift build -c release --product latent; cp .build/release/latent "$run/latent-train-bin"; }
init=/root/latent-runs/colour1/colour.safetensors
if [ ! -f "$init" ]; then
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
  --flat-camera-maps --noise gaussian:0-60/255 --data ../shared/data/denoise/cbsd432 --patch 96 --batch 12 --steps-per-epoch 250 --epochs 10 --lr 2e-4 \
  --seed 11 --workers 2 --init-from "$init" -o "$run/colour.safetensors" "${resume[@]}" >> "$run/train.log" 2>&1 &
echo "training in the background: tail -f $run/train.log"
