#!/usr/bin/env bash
# Colour model, run 2 (issue 11): fine-tunes run 1 (scripts/train_colour.sh, 80 epochs) and its
# noise estimator with --correlated-noise (real photos' noise is correlated 4-8 pixels away and
# across channels far more than run 1's camera noise; see scripts/noise_stats.py beside
# `latent-bench noise-stats --processing correlated`). Both resume their run-1 checkpoints with a
# longer cosine schedule, so the learning rate restarts low (1.3e-4 for the denoiser) and decays:
#   the denoiser: epochs 81-104 (run 1 stopped at 80 of 80);
#   the estimator: epochs 45-62 (run 1 stopped at 44 of 50).
# Checkpoints and logs in /root/latent-runs/colour2/ and /root/latent-runs/estimator3/.
#   scripts/train_colour2.sh          start (copies run 1's checkpoints if none are there yet)
#   scripts/train_colour2.sh          again after an interruption: it resumes (always --resume)
# On a fresh machine without run 1's checkpoints there is nothing to resume: start the denoiser
# from the shipped weights instead (--init-from Sources/Models/Builtin/photo-color.safetensors
# --epochs 24 --lr 1.3e-4, a new cosine schedule of the same length and starting rate).
# Then: python3 scripts/bundle_estimator.py /root/latent-runs/colour2/colour.safetensors \
#         /root/latent-runs/estimator3/estimator.safetensors Sources/Models/Builtin/photo-color.safetensors
set -euo pipefail
cd "$(dirname "$0")/.."
den=/root/latent-runs/colour2 est=/root/latent-runs/estimator3
mkdir -p "$den" "$est"
for run in "$den" "$est"; do
  [ -x "$run/latent-train-bin" ] || { swift build -c release --product latent; cp .build/release/latent "$run/latent-train-bin"; }
done
[ -f "$den/colour.ckpt.safetensors" ] || cp /root/latent-runs/colour1/colour.ckpt.safetensors "$den/colour.ckpt.safetensors"
[ -f "$est/estimator.ckpt.safetensors" ] || cp /root/latent-runs/estimator2/estimator.ckpt.safetensors "$est/estimator.ckpt.safetensors"
D=../shared/data/denoise/cbsd432
nohup "$den/latent-train-bin" train --model conv-dae --rgb --noise-map --camera-noise 0.5 --jpeg 0.5 --correlated-noise --png-noise 1 --blocks 2 \
  --noise gaussian:0-60/255 --data $D --patch 96 --batch 12 --steps-per-epoch 250 --epochs 104 --lr 1e-3 \
  --seed 11 --workers 2 -o "$den/colour.safetensors" --resume >> "$den/train.log" 2>&1 &
nohup "$est/latent-train-bin" train --model noise-estimator --rgb --camera-noise 0.5 --jpeg 0.5 --correlated-noise --png-noise 1 \
  --noise gaussian:0-60/255 --data $D --patch 96 --batch 16 --steps-per-epoch 200 --epochs 62 --lr 1e-3 \
  --est-width 32 --est-depth 4 --seed 5 --workers 1 -o "$est/estimator.safetensors" --resume >> "$est/train.log" 2>&1 &
echo "training in the background: tail -f $den/train.log $est/train.log"
