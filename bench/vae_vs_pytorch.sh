#!/usr/bin/env bash
# VAE training throughput and test loss: latent vs the PyTorch reference (../shared/bench/pytorch_vae.py),
# same recipe (784-400-20, ReLU, summed BCE + KL, Adam 1e-3, batch 128), same data, same machine,
# run one after the other in this command. Prints the images/s ratio and the fraction of sgemm peak.
# Usage: bench/vae_vs_pytorch.sh [EPOCHS] [THREADS]      (pip install torch numpy)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-10}
threads=${2:-2}
data=${MNIST:-../shared/data/mnist}
swift build -c release --product latent >/dev/null
swift build -c release --product latent-bench >/dev/null
out=bench/out/vae; mkdir -p "$out"
echo "# VAE 784-400-20, $epochs epochs, $threads threads, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
python3 ../shared/bench/pytorch_vae.py --epochs "$epochs" --threads "$threads" --data "$data" > "$out/pytorch.jsonl"
.build/release/latent train --model vae --hidden 400 --latent 20 --epochs "$epochs" --batch 128 --lr 1e-3 --seed 1 \
  --threads "$threads" --data "$data" -o "$out/latent-vae.safetensors" --json --quiet > "$out/latent.jsonl"
python3 - "$out" <<'PY'
import json, sys, statistics
out = sys.argv[1]
pt = [json.loads(l) for l in open(f"{out}/pytorch.jsonl")]
lt = [json.loads(l) for l in open(f"{out}/latent.jsonl")]
pt_ep = [r for r in pt if "epoch" in r]
pt_rate = statistics.median(r["images_per_s"] for r in pt_ep)
lt_rate = statistics.median(r["images_per_s"] for r in lt)
print(f"{'epoch':>5} {'pytorch img/s':>14} {'latent img/s':>13} {'pytorch test':>13} {'latent test':>12}")
for a, b in zip(pt_ep, lt):
    print(f"{a['epoch']:>5} {a['images_per_s']:>14.0f} {b['images_per_s']:>13.0f} {a['test_loss_per_image']:>13.3f} {b['val_loss']:>12.3f}")
print(f"median images/s: pytorch {pt_rate:.0f}, latent {lt_rate:.0f}  ->  latent/pytorch = {lt_rate / pt_rate:.2f}x")
print(f"final test loss per image: pytorch {pt_ep[-1]['test_loss_per_image']:.3f}, latent {lt[-1]['val_loss']:.3f} "
      f"({100 * (lt[-1]['val_loss'] / pt_ep[-1]['test_loss_per_image'] - 1):+.2f}%)")
open(f"{out}/latent_rate", "w").write(str(lt_rate))
PY
.build/release/latent-bench gemm --threads "$threads" --images-per-second "$(cat $out/latent_rate)"
