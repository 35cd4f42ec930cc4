#!/usr/bin/env bash
# Trains the colour model's noise-map estimator (issue 11) on the same kind of synthetic noise as
# the colour denoiser, with the correlated mode too (in-camera processing, blotchy noise, and a
# luma component correlated 2-10 pixels away), and more weak white noise (--sigma-power 2: σ
# drawn as 60·u²): the shipped estimator since session 13, run 5 (width 48, depth 6, 126k
# parameters; 24 epochs, about 25 minutes on this 2-core machine beside another training run).
# Session 10's run 4, shipped until session 13, was the same without --sigma-power.
# MIX=--smooth-chroma (or --reduced-chroma) trains on that camera-noise mix instead of --correlated-noise.
# Checkpoint and log in /root/latent-runs/estimator5/ (NAME=DIR: /root/latent-runs/DIR/ instead).
#   scripts/train_estimator.sh            start
#   scripts/train_estimator.sh --resume   continue after the last finished epoch
# Then: python3 scripts/bundle_estimator.py DENOISER /root/latent-runs/estimator5/estimator.safetensors \
#   Sources/Models/Builtin/photo-color.safetensors val_psnr_25=30.57
# (Earlier estimators, width 32 and depth 4 on coarse noise without the correlated mode, read
# real photos' noise at about 0.65 of its pixel σ: see README.md.)
set -euo pipefail
cd "$(dirname "$0")/.."
run=/root/latent-runs/${NAME:-estimator5}
mkdir -p "$run"
[ -x "$run/latent-train-bin" ] || { swift build -c release --product latent; cp .build/release/latent "$run/latent-train-bin"; }
nohup "$run/latent-train-bin" train --model noise-estimator --rgb --camera-noise 0.5 --jpeg 0.5 --camera-processing --coarse-noise \
  "${MIX:---correlated-noise}" --png-noise 1 --noise gaussian:0-60/255 --data ../shared/data/denoise/cbsd432 --patch 96 --batch 16 \
  --steps-per-epoch 200 --epochs 24 --lr 1e-3 --est-width 48 --est-depth 6 --sigma-power 2 --seed 5 --workers 1 \
  -o "$run/estimator.safetensors" "$@" >> "$run/train.log" 2>&1 &
echo "training in the background: tail -f $run/train.log"
