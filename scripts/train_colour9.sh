#!/usr/bin/env bash
# Colour model, run 9 (issue 11): fine-tuned with --log-loss and --reduced-chroma (half the
# camera patches get chroma noise as real photos have it after the camera's chroma noise
# reduction: weak, 4-80% of luma's variance, and smooth), plus the given flags.
# INIT (default: run 5, the shipped denoiser since session 10) picks the start.
# Run as `INIT=/root/latent-runs/colour8/colour.safetensors scripts/train_colour9.sh --sigma-power 2`
# and stopped after epoch 5 of 10: no gain (first 12 real pairs 36.34, AWGN σ 15 39.95 against
# run 8's 36.35 and 40.06).
# Checkpoint and log in /root/latent-runs/colour9/; see scripts/finetune_colour.sh.
init=${INIT:-/root/latent-runs/colour5/colour.safetensors}
[ -f "$init" ] || init=shipped   # run 5 is the shipped denoiser
INIT=$init exec "$(dirname "$0")/finetune_colour.sh" colour9 --log-loss --reduced-chroma "$@"
