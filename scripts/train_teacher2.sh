#!/usr/bin/env bash
# Issue 11, session 36's plan for the white-noise bars: a stronger teacher (t2) to distil the
# shipped photo-color from. The shipped network (48,128,128) grown to 64,192,128 (318.5k
# multiply-adds per pixel) and trained 20 epochs towards the clean photos, cosine from 3e-4, no
# teacher pairs. Run it again after an interruption: finetune_colour.sh passes --resume when
# the checkpoint exists (one is written every epoch). Log and files in /root/latent-runs/t2/.
#   scripts/train_teacher2.sh
# It grows the network shipped at the time it first runs (wh2 since session 36); a file already
# in /root/latent-runs/t2/ is kept. Then, once the log says "wrote": scripts/distil_teacher2.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
run=/root/latent-runs/t2
mkdir -p "$run"
init=$run/t2-init.safetensors
[ -f "$init" ] || python3 scripts/widen_colour.py Sources/Models/Builtin/photo-color.safetensors "$init" 64,192,128
INIT=$init EPOCHS=20 LR=3e-4 PATCH=128 BATCH=7 scripts/finetune_colour.sh t2 --log-loss --widths 64,192,128
