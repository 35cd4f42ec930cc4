#!/usr/bin/env bash
# Colour model, run 3 (issue 11, an experiment): run 1's denoiser fine-tuned with
# --flat-camera-maps: `latent denoise` gives the model a measured noise level function's mean per
# channel, the same at every pixel, so camera-like training patches get that too (run 1 saw flat
# maps only with white noise, and learnt a flat map as the sign of white noise).
# Checkpoint and log in /root/latent-runs/colour3/; see scripts/finetune_colour.sh.
exec "$(dirname "$0")/finetune_colour.sh" colour3 --flat-camera-maps
