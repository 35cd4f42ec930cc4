#!/usr/bin/env bash
# Colour model, run 5 (issue 11, an experiment): run 1's denoiser fine-tuned with --log-loss
# (each patch's loss the log of its squared error, so low-noise patches weigh as much as heavy
# ones: the model was 0.76 dB behind CBM3D at σ 15 told the true σ, and real noise is weak).
# Checkpoint and log in /root/latent-runs/colour5/; see scripts/finetune_colour.sh.
exec "$(dirname "$0")/finetune_colour.sh" colour5 --log-loss
