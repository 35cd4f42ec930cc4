#!/usr/bin/env bash
# Colour model, run 8 (issue 11): run 5 (the shipped denoiser since session 10) fine-tuned with
# --log-loss and --sigma-power 2 (white noise's σ drawn as 60·u², half the white-noise patches
# under σ 15: AWGN σ 15 was the one white-noise level still behind CBM3D, σ 50 is 5 dB ahead,
# and real photos' noise is weak). Result (eval --pairs, the shipped estimator): AWGN σ 15 on 8
# polyu clean photos 39.98 → 40.06, σ 25 37.51 → 37.40, first 12 real pairs 36.37 → 36.35, all
# 41 37.27 → 37.26; told σ 5 on 4 clean photos with σ 5 noise 44.06 → 44.35 (CBM3D 46.35).
# Checkpoint and log in /root/latent-runs/colour8/; see scripts/finetune_colour.sh.
init=/root/latent-runs/colour5/colour.safetensors
[ -f "$init" ] || init=shipped   # run 5 is the shipped denoiser
INIT=$init exec "$(dirname "$0")/finetune_colour.sh" colour8 --log-loss --sigma-power 2
