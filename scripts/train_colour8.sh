#!/usr/bin/env bash
# Colour model, run 8 (issue 11): run 5 (the shipped denoiser since session 10) fine-tuned with
# --log-loss and --sigma-power 2 (white noise's σ drawn as 60·u², half the white-noise patches
# under σ 15: AWGN σ 15 was the one white-noise level still behind CBM3D, σ 50 is 5 dB ahead,
# and real photos' noise is weak). Checkpoint and log in /root/latent-runs/colour8/; see
# scripts/finetune_colour.sh.
init=/root/latent-runs/colour5/colour.safetensors
[ -f "$init" ] || init=shipped   # run 5 is the shipped denoiser
INIT=$init exec "$(dirname "$0")/finetune_colour.sh" colour8 --log-loss --sigma-power 2
