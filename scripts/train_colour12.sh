#!/usr/bin/env bash
# Colour model, run 12 (issue 11, session 14): the shipped denoiser grown to a 48-channel
# full-resolution path (scripts/widen_colour.py: the grown network starts as the same function),
# then 20 epochs of the shipped recipe with --log-loss from a higher rate (5e-4, against 2e-4 for
# session 12's 10-epoch wide1 run) on 128-pixel patches (batch 7: about the pixels of 12 patches
# of 96 a step). 110.9k multiply-adds per pixel (85k shipped). About 4.5-5 minutes an epoch
# on this 2-core machine.
# Checkpoint and log in /root/latent-runs/wide2/; again after an interruption, it resumes.
set -euo pipefail
cd "$(dirname "$0")/.."
init=/root/latent-runs/wide2-init.safetensors
# Grown from session 13's shipped model (commit 3e4fc0f's built-in file).
if [ ! -f "$init" ]; then
  git show 3e4fc0f:Sources/Models/Builtin/photo-color.safetensors > /root/latent-runs/photo-color-s13.safetensors
  python3 scripts/widen_colour.py /root/latent-runs/photo-color-s13.safetensors "$init" 48
fi
INIT=$init EPOCHS=20 LR=5e-4 PATCH=128 BATCH=7 exec scripts/finetune_colour.sh wide2 --log-loss --widths 48,64,128
