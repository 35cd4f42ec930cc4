#!/usr/bin/env bash
# Grey photo denoising on Set12: latent's conv-dae ("photo" or MODEL) vs BM3D (pip bm3d, through
# ../shared/bench/bm3d_folder.py), same protocol, same machine, one run: PSNR at sigma 15/25/50 and
# CPU-seconds per megapixel (a noise-conditioned model measures σ in each image, timed; it is also
# run told the true σ); plus the CLI path (noisy images saved as 8-bit PNGs, then
# `latent denoise`). Usage: bench/photo_vs_bm3d.sh [MODEL] [SIGMAS...]   (pip install bm3d pillow numpy)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-photo}; shift || true
sigmas=${*:-15 25 50}
set12=../shared/data/denoise/set12
swift build -c release --product latent >/dev/null
L=.build/release/latent
out=bench/out/photo; mkdir -p "$out"
python3 -c "import bm3d" 2>/dev/null || pip install -q bm3d pillow numpy
printf '%-6s %-22s %10s %12s %10s\n' sigma method psnr_dB cpu_s/MP "vs BM3D"
for s in $sigmas; do
  python3 ../shared/bench/bm3d_folder.py "$set12" --sigma "$s" --seed 0 --write-noisy "$out/noisy$s" > "$out/bm3d$s.jsonl"
  $L eval --model "$model" --data "$set12" --sigma "$s" --json > "$out/latent$s.json"
  # A noise-conditioned model measures σ in each image (blind); also run it told the true σ.
  rm -f "$out/given$s.json"
  if grep -q '"sigma_input":"measured' "$out/latent$s.json"; then
    $L eval --model "$model" --data "$set12" --sigma "$s" --given-sigma --json > "$out/given$s.json"
  fi
  rm -rf "$out/den$s"
  $L denoise "$out/noisy$s" -o "$out/den$s" --model "$model" --quiet --jobs 1
  python3 - "$s" "$out" "$set12" <<'PY'
import glob, json, os, sys
import numpy as np
from PIL import Image
s, out, set12 = sys.argv[1:]
b = [json.loads(l) for l in open(f"{out}/bm3d{s}.jsonl")]
summary = [r for r in b if "summary" in r or "mean_psnr" in r]
rows = [r for r in b if "image" in r]
bm3d_psnr = np.mean([r["bm3d"] for r in rows]) if rows and "bm3d" in rows[0] else float("nan")
bm3d_cpu = summary[-1].get("bm3d_cpu_s_per_megapixel", float("nan")) if summary else float("nan")
l = json.load(open(f"{out}/latent{s}.json"))
def psnr(c, e):
    return 10 * np.log10(255.0 ** 2 / np.mean((c.astype(np.float64) - e.astype(np.float64)) ** 2))
cli = []
for f in sorted(glob.glob(os.path.join(set12, "*.png"))):
    c = np.asarray(Image.open(f).convert("L"))
    d = np.asarray(Image.open(os.path.join(f"{out}/den{s}", os.path.basename(f))).convert("L"))
    cli.append(psnr(c, d))
print(f"{s:<6} {'BM3D':<22} {bm3d_psnr:>10.2f} {bm3d_cpu:>12.2f}")
print(f"{s:<6} {'latent eval (float)':<22} {l['psnr_denoised']:>10.2f} {l['cpu_s_per_mp']:>12.2f} {l['psnr_denoised'] - bm3d_psnr:+9.2f} dB, {bm3d_cpu / l['cpu_s_per_mp']:.1f}x less CPU")
if os.path.exists(f"{out}/given{s}.json"):
    g = json.load(open(f"{out}/given{s}.json"))
    print(f"{s:<6} {'latent eval (σ given)':<22} {g['psnr_denoised']:>10.2f} {g['cpu_s_per_mp']:>12.2f} {g['psnr_denoised'] - bm3d_psnr:+9.2f} dB"
          f"   (σ measured: off by {l['sigma_estimate_mean_abs_error']:.2f} on average)")
print(f"{s:<6} {'latent denoise (PNG)':<22} {np.mean(cli):>10.2f}")
PY
done
