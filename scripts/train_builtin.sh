#!/usr/bin/env bash
# Trains the built-in models into Sources/Models/Builtin (needs ../shared/data/mnist).
# Each run checkpoints every epoch; re-running this script resumes an interrupted one.
# Usage: scripts/train_builtin.sh [mnist-vae|mnist-vae2d|mnist-dae ...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
latent=${LATENT:-.build/release/latent}
[ -x "$latent" ] || swift build -c release --product latent
data=${MNIST:-../shared/data/mnist}
out=Sources/Models/Builtin
mkdir -p "$out" logs
threads=${THREADS:-2}
train() {  # name, args...
  local name=$1; shift
  local resume=()
  [ -f "$out/$name.ckpt.safetensors" ] && resume=(--resume)
  echo "== $name: $*" | tee -a "logs/$name.log"
  "$latent" train --data "$data" --threads "$threads" -o "$out/$name.safetensors" "${resume[@]}" "$@" 2>&1 | tee -a "logs/$name.log"
  rm -f "$out/$name.ckpt.safetensors"
}
models=("${@:-mnist-vae mnist-vae2d mnist-dae}")
for m in ${models[@]}; do
  case $m in
    mnist-vae)   train mnist-vae   --model vae --hidden 400 --latent 20 --epochs 50 --seed 1 ;;
    mnist-vae2d) train mnist-vae2d --model vae --hidden 400 --latent 2 --epochs 50 --seed 1 ;;
    mnist-dae)   train mnist-dae   --model dae --noise gaussian:0.5 --hidden 512 --latent 128 --epochs 50 --seed 1 ;;
    *) echo "unknown model $m" >&2; exit 2 ;;
  esac
done
