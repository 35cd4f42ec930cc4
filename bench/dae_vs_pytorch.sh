#!/usr/bin/env bash
# MLP DAE 784-512-128-512-784, 10 epochs: PSNR of noisy and denoised MNIST test images, latent vs
# ../shared/bench/pytorch_dae.py, for gaussian:0.5 and mask:0.3, in one command.
# Usage: bench/dae_vs_pytorch.sh [EPOCHS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-10}; threads=${2:-2}
data=${MNIST:-../shared/data/mnist}
swift build -c release --product latent >/dev/null
out=bench/out/dae; mkdir -p "$out"
printf '%-14s %-8s %10s %12s %14s %12s\n' noise impl noisy_dB denoised_dB median3x3_dB images/s
for noise in gaussian:0.5 mask:0.3; do
  tag=${noise/:/-}
  python3 ../shared/bench/pytorch_dae.py --noise "$noise" --hidden 512 --latent 128 --epochs "$epochs" --threads "$threads" --data "$data" > "$out/pytorch-$tag.jsonl"
  .build/release/latent train --model dae --noise "$noise" --hidden 512 --latent 128 --epochs "$epochs" --threads "$threads" \
    --data "$data" -o "$out/latent-$tag.safetensors" --json --quiet > "$out/latent-$tag.jsonl"
  .build/release/latent eval --model "$out/latent-$tag.safetensors" --data "$data" --noise "$noise" --json > "$out/latent-$tag.eval.json"
  python3 - "$out" "$tag" "$noise" <<'PY'
import json, statistics, sys
out, tag, noise = sys.argv[1:]
pt = [json.loads(l) for l in open(f"{out}/pytorch-{tag}.jsonl")]
s = pt[-1]
lt = [json.loads(l) for l in open(f"{out}/latent-{tag}.jsonl")]
ev = json.load(open(f"{out}/latent-{tag}.eval.json"))
lr = statistics.median(r["images_per_s"] for r in lt)
print(f"{noise:<14} {'pytorch':<8} {s['psnr_noisy']:>10.2f} {s['psnr_denoised']:>12.2f} {'':>14} {s['median_images_per_s']:>12.0f}")
print(f"{noise:<14} {'latent':<8} {ev['psnr_noisy']:>10.2f} {ev['psnr_denoised']:>12.2f} {ev['psnr_median3x3']:>14.2f} {lr:>12.0f}")
print(f"{'':<14} latent - pytorch denoised: {ev['psnr_denoised'] - s['psnr_denoised']:+.2f} dB; speed {lr / s['median_images_per_s']:.2f}x")
PY
done
