#!/usr/bin/env bash
# Colour model, run 10 (issue 11): run 8 (run 5 + 10 epochs of --sigma-power 2) fine-tuned 10
# more epochs with --log-loss --sigma-power 3 (σ = 60·u³: half the white-noise patches under
# σ 7.5). Weak noise is where the model is furthest behind CBM3D: white noise σ 5 on 4 polyu
# clean photos, told σ 5: 44.06 dB run 5, 44.35 run 8, CBM3D 46.35.
# Result (eval --pairs, shipped estimator): told σ 5 44.49; AWGN σ 15 40.03, σ 25 37.34; first
# 12 real pairs 36.33, all 41 37.25 (run 5: 39.98, 37.51, 36.37, 37.27): not shipped.
# Checkpoint and log in /root/latent-runs/colour10/; see scripts/finetune_colour.sh.
init=/root/latent-runs/colour8/colour.safetensors
[ -f "$init" ] || { echo "train_colour10.sh: run 8's model $init is missing: run scripts/train_colour8.sh first" >&2; exit 2; }
INIT=$init exec "$(dirname "$0")/finetune_colour.sh" colour10 --log-loss --sigma-power 3
