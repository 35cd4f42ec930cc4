#!/usr/bin/env bash
# Colour model, run 16 (issue 11, session 18): opponent noise maps (`--map-space opponent`: the
# map's planes are the σ of luma and two chroma components, so a model can tell noise the
# channels share from independent noise; docs/colour-model.md, session 18).
#  1. The shipped denoiser fine-tuned 6 epochs from 2e-4 on 128-pixel patches with the opponent
#     map and half the white-noise patches grey-correlated (--correlated-white 0.5): opp1, about
#     30 minutes beside the estimator.
#  2. The shipped estimator (run 5) fine-tuned to read the opponent components: estimator9 (12
#     epochs from 3e-4), then estimator10 (24 more from 3e-4), then estimator11 (16 more from
#     2e-4 with the plain squared error, --est-alpha 0.5, instead of CBDNet's asymmetric 0.3).
# Each in /root/latent-runs/NAME/ (log, checkpoint); again after an interruption, it resumes.
# Then: python3 scripts/bundle_estimator.py /root/latent-runs/opp1/colour.safetensors \
#   /root/latent-runs/estimator11/estimator.safetensors OUT
#   scripts/train_colour16.sh denoiser | estimator9 | estimator10 | estimator11
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:?usage: scripts/train_colour16.sh denoiser|estimator9|estimator10|estimator11}" in
  denoiser)
    INIT=/root/latent-runs/wide2/colour.safetensors EPOCHS=6 LR=2e-4 PATCH=128 BATCH=7 \
      exec scripts/finetune_colour.sh opp1 --log-loss --widths 48,64,128 --map-space opponent --correlated-white 0.5 ;;
  estimator9)
    NAME=estimator9 exec scripts/train_estimator.sh --init-from Sources/Models/Builtin/photo-color.safetensors --lr 3e-4 --epochs 12 \
      --map-space opponent --correlated-white 0.5 ;;
  estimator10)
    python3 scripts/bundle_estimator.py /root/latent-runs/opp1/colour.safetensors /root/latent-runs/estimator9/estimator.safetensors \
      /root/latent-runs/opp1/bundle.safetensors
    NAME=estimator10 exec scripts/train_estimator.sh --init-from /root/latent-runs/opp1/bundle.safetensors --lr 3e-4 --epochs 24 \
      --map-space opponent --correlated-white 0.5 ;;
  estimator11)
    python3 scripts/bundle_estimator.py /root/latent-runs/opp1/colour.safetensors /root/latent-runs/estimator10/estimator.safetensors \
      /root/latent-runs/opp1/bundle10.safetensors
    NAME=estimator11 exec scripts/train_estimator.sh --init-from /root/latent-runs/opp1/bundle10.safetensors --lr 2e-4 --epochs 16 \
      --map-space opponent --correlated-white 0.5 --est-alpha 0.5 ;;
  *) echo "scripts/train_colour16.sh: unknown step '$1'" >&2; exit 2 ;;
esac
