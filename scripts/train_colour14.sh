#!/usr/bin/env bash
# Colour model, run 14 (issue 11, session 16): the shipped denoiser (session 14's 48-channel
# network) with two full-resolution residual blocks after dec0 (`--fine-blocks 2`, zero-initialised,
# so training starts from the shipped function), 12 epochs of the shipped recipe with --log-loss
# from 2e-4 on 128-pixel patches. The question: does depth at full resolution (fine detail) help
# at low noise, where the model trails CBM3D (white σ 15) and its white-only fine-tune gains most?
# 152.4k multiply-adds per pixel (110.9k shipped). About 5 minutes an epoch on this 2-core machine.
# Checkpoint and log in /root/latent-runs/fine2/; again after an interruption, it resumes.
set -euo pipefail
cd "$(dirname "$0")/.."
INIT=/root/latent-runs/wide2/colour.safetensors EPOCHS=12 LR=2e-4 PATCH=128 BATCH=7 exec scripts/finetune_colour.sh fine2 --log-loss --widths 48,64,128 --fine-blocks 2
