#!/usr/bin/env bash
# Colour model, run 4 (issue 11, an experiment): run 1's denoiser fine-tuned with --halved-copies
# (each training photo also shrunk to half size by 2x2 averages: cleaner targets; polyu-val's
# references are means of many shots, far smoother than a scanned BSD photo, and the shipped
# model leaves most of the real noise finer than 2 pixels in place).
# Checkpoint and log in /root/latent-runs/colour4/; see scripts/finetune_colour.sh.
exec "$(dirname "$0")/finetune_colour.sh" colour4 --halved-copies
