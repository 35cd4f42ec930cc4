#!/usr/bin/env bash
# Colour model, run 6 (issue 11): run 5 (the shipped denoiser since session 10) fine-tuned 6 more
# epochs with --log-loss, lr 1e-4 cosine (run 5 was still gaining at σ 15 when it ended).
# Checkpoint and log in /root/latent-runs/colour6/; see scripts/finetune_colour.sh.
init=/root/latent-runs/colour5/colour.safetensors
[ -f "$init" ] || init=shipped   # run 5 is the shipped denoiser
INIT=$init EPOCHS=6 LR=1e-4 exec "$(dirname "$0")/finetune_colour.sh" colour6 --log-loss
