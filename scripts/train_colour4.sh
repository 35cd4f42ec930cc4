#!/usr/bin/env bash
# Colour model, run 4 (issue 11, an experiment): fine-tunes run 1's denoiser with --halved-copies
# (each training photo also shrunk to half size by 2x2 averages: cleaner targets; polyu-val's
# references are means of many shots, far smoother than a scanned BSD photo, and the shipped
# model leaves most of the real noise finer than 2 pixels in place). Otherwise run 1's recipe
# and seed (the seed picks the validation photos); a new cosine schedule of 10 epochs from 2e-4.
# Checkpoint and log in /root/latent-runs/colour4/; it passes --resume when a checkpoint is there.
# Without run 1's output (a fresh machine) it starts from the shipped model's denoiser.
set -euo pipefail
cd "$(dirname "$0")/.."
run=/root/latent-runs/colour4
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
  --halved-copies --noise gaussian:0-60/255 --data ../shared/data/denoise/cbsd432 --patch 96 --batch 12 --steps-per-epoch 250 --epochs 10 --lr 2e-4 \
  --seed 11 --workers 2 --init-from "$init" -o "$run/colour.safetensors" "${resume[@]}" >> "$run/train.log" 2>&1 &
echo "training in the background: tail -f $run/train.log"
