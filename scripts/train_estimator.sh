#!/usr/bin/env bash
# Trains the colour model's noise-map estimator (issue 11), run 1, on the same synthetic noise as
# the colour denoiser. Checkpoint and log in /root/latent-runs/estimator2/ (estimator1 was the
# first architecture, plain ReLUs, which collapsed to a constant).
#   scripts/train_estimator.sh            start
#   scripts/train_estimator.sh --resume   continue after the last finished epoch
# Epochs 1-40 ran without --coarse-noise and with --workers 2 (estimator2 as committed in session
# 5); epochs 41-50 fine-tune it with --coarse-noise (the colour run's recipe from epoch 55 on).
# On a fresh machine: mkdir -p /root/latent-runs/estimator2 && cp train-state/estimator2.ckpt.safetensors /root/latent-runs/estimator2/estimator.ckpt.safetensors
set -euo pipefail
cd "$(dirname "$0")/.."
run=/root/latent-runs/estimator2
mkdir -p "$run"
[ -x "$run/latent-train-bin" ] || { swift build -c release --product latent; cp .build/release/latent "$run/latent-train-bin"; }
nohup "$run/latent-train-bin" train --model noise-estimator --rgb --camera-noise 0.5 --jpeg 0.5 --camera-processing --coarse-noise --png-noise 1 \
  --noise gaussian:0-60/255 --data ../shared/data/denoise/cbsd432 --patch 96 --batch 16 --steps-per-epoch 200 --epochs 50 --lr 1e-3 \
  --est-width 32 --est-depth 4 --seed 5 --workers 1 -o "$run/estimator.safetensors" "$@" >> "$run/train.log" 2>&1 &
echo "training in the background: tail -f $run/train.log"
