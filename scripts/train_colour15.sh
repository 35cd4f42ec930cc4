#!/usr/bin/env bash
# Colour model, run 15 (issue 11, session 18): the shipped denoiser's half-resolution level grown
# from 64 to 96 channels (scripts/widen_colour.py: the grown network starts as the same function,
# checked bit for bit through `latent denoise --sigma 15`), then 12 epochs of the shipped recipe
# from 2e-4 on 128-pixel patches (batch 7). 139.1k multiply-adds per pixel (110.9k shipped).
# The shipped network's half-resolution level is its thinnest: one 3x3 layer each way at 64
# channels, against 48 at full resolution (four layers) and 128 at quarter (four).
# Checkpoint and log in /root/latent-runs/half96/; again after an interruption, it resumes.
set -euo pipefail
cd "$(dirname "$0")/.."
init=/root/latent-runs/half96-init.safetensors
# Grown from the shipped denoiser (session 14's wide2 run, the built-in file without its estimator).
if [ ! -f "$init" ]; then
  python3 scripts/widen_colour.py Sources/Models/Builtin/photo-color.safetensors "$init" 48,96
fi
INIT=$init EPOCHS=12 LR=2e-4 PATCH=128 BATCH=7 exec scripts/finetune_colour.sh half96 --log-loss --widths 48,96,128
