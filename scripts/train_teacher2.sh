#!/usr/bin/env bash
# Issue 11, session 36's plan for the white-noise bars: a stronger teacher (t2) to distil the
# shipped photo-color from. The shipped network (48,128,128) grown to 64,192,128 (318.5k
# multiply-adds per pixel) and trained 20 epochs towards the clean photos, cosine from 3e-4, no
# teacher pairs. Run it again after an interruption: finetune_colour.sh passes --resume when
# the checkpoint exists (one is written every epoch). Log and files in /root/latent-runs/t2/.
#   scripts/train_teacher2.sh
# Then, once the log says "wrote": bundle the estimator, score t2 in 4 orientations
# (scripts/eval_suite.sh T2 "h43s15 h43s25" -- --ensemble 4; go on only if it beats wide4's
# 33.47 / 30.80), make its targets (scripts/make_teacher_targets.sh T2 /root/latent-runs/distill2)
# and distil the shipped network towards them (README's recipe, its last step, with INIT the
# shipped network and the new folders).
set -euo pipefail
cd "$(dirname "$0")/.."
run=/root/latent-runs/t2
mkdir -p "$run"
init=$run/t2-init.safetensors
[ -f "$init" ] || python3 scripts/widen_colour.py Sources/Models/Builtin/photo-color.safetensors "$init" 64,192,128
INIT=$init EPOCHS=20 LR=3e-4 PATCH=128 BATCH=7 scripts/finetune_colour.sh t2 --log-loss --widths 64,192,128
