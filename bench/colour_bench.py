#!/usr/bin/env python3
"""Colour denoising: latent against CBM3D on the same 8-bit inputs, in one command.

  bench/colour_bench.py awgn CLEAN_DIR [--sigmas 15,25,50] [--limit N] [--model photo] [--ensemble N]
      Synthetic white Gaussian noise (the colour protocol of ../shared/bench/cbm3d_folder.py:
      noisy = round(clip(clean + sigma*N(0,1))), saved as 8-bit PNGs). CBM3D is given the true
      sigma; latent runs as a user runs it (`latent denoise NOISY -o OUT`, sigma measured).
  bench/colour_bench.py pairs PAIRS_DIR [--cbm3d-sigmas 8,11,15,20] [--limit N] [--model photo] [--ensemble N]
      Real noise (a folder of noisy/ and clean/ of the same names, such as polyu-val). CBM3D at
      each fixed sigma, the best one reported (an oracle: tuned on the answers); latent blind.

Both print PSNR (RGB, whole image, mean over images) and CPU-seconds per megapixel of the whole
process (CBM3D: its calls; latent: the `latent denoise` process, reading, noise estimation,
inference and writing, one job), and the ratios. --ensemble N runs latent with `--ensemble N`
(each image in N orientations, averaged). --cache DIR keeps CBM3D's results (keyed by the
arguments) and says so when it reuses them; without it both are measured now.
Needs: pip install bm3d pillow numpy; the built latent (LATENT, default .build/release/latent)."""
import argparse, glob, hashlib, json, os, resource, subprocess, sys, tempfile, time
import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
CBM3D = os.path.join(SHARED, "bench", "cbm3d_folder.py")
LATENT = os.environ.get("LATENT", os.path.join(ROOT, ".build", "release", "latent"))


def load(p): return np.asarray(Image.open(p).convert("RGB")).astype(np.float64)
def psnr(x, ref): return 10 * np.log10(255.0 ** 2 / np.mean((x - ref) ** 2))


def cbm3d(args, cache):
    """Runs the reference script (or reuses its cached JSON line)."""
    keyed = [v for i, v in enumerate(args) if not (i > 0 and args[i - 1] == "--write-noisy")]   # not the temporary folder
    key = hashlib.sha1(" ".join(keyed).encode()).hexdigest()[:16]
    path = os.path.join(cache, key + ".json") if cache else None
    if path and os.path.exists(path):
        with open(path) as f:
            d = json.load(f)
        d["cached_from"] = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(path)))
        # The noisy inputs are still written now (same seed, same files).
        if "--write-noisy" in args:
            subprocess.run([sys.executable, CBM3D] + args + ["--no-cbm3d"], check=True, capture_output=True)
        return d
    r = subprocess.run([sys.executable, CBM3D] + args, check=True, capture_output=True, text=True)
    d = json.loads(r.stdout.strip().splitlines()[-1])
    if path:
        os.makedirs(cache, exist_ok=True)
        with open(path, "w") as f:
            json.dump(d, f)
    return d


def latent_denoise(noisy_dir, out_dir, model, names, ensemble=1, real_noise="auto"):
    """`latent denoise` on the folder, one job; its CPU time from the child's rusage."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run([LATENT, "denoise", noisy_dir, "-o", out_dir, "--model", model, "--jobs", "1", "--overwrite", "--quiet", "--ensemble", str(ensemble)]
                       + ["--real-noise", real_noise],
                       capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"latent denoise failed: {r.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    mp = sum(Image.open(os.path.join(noisy_dir, n)).size[0] * Image.open(os.path.join(noisy_dir, n)).size[1] for n in names) / 1e6
    return cpu / mp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["awgn", "pairs"])
    ap.add_argument("folder")
    ap.add_argument("--sigmas", default="15,25,50")
    ap.add_argument("--cbm3d-sigmas", default="8,11,15,20")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", default="photo")
    ap.add_argument("--cache")
    ap.add_argument("--ensemble", type=int, default=1)
    ap.add_argument("--real-noise", choices=["auto", "on", "off"], default="auto", help="latent denoise --real-noise: the block-matching Wiener stage after the network where the noise is a camera's (auto, the default), always, or never")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="latent-colour-bench-")
    rows = []
    print(f"latent: {LATENT} --model {a.model} --ensemble {a.ensemble}{' --real-noise ' + a.real_noise}; CBM3D: {CBM3D}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}")
    if a.mode == "awgn":
        files = sorted(glob.glob(os.path.join(a.folder, "*.png")))[: a.limit or None]
        names = [os.path.basename(f) for f in files]
        print(f"{'sigma':>5} {'noisy':>7} {'CBM3D':>7} {'latent':>7} {'diff':>6}   {'CBM3D CPU-s/MP':>14} {'latent CPU-s/MP':>15} {'speed-up':>8}")
        for s in [float(v) for v in a.sigmas.split(",")]:
            noisy = os.path.join(work, f"noisy-{s:g}")
            ref = cbm3d([a.folder, "--sigma", f"{s:g}", "--seed", str(a.seed), "--write-noisy", noisy] + (["--limit", str(a.limit)] if a.limit else []), a.cache)
            out = os.path.join(work, f"out-{s:g}")
            cpu = latent_denoise(noisy, out, a.model, names, a.ensemble, a.real_noise)
            ours = float(np.mean([psnr(load(os.path.join(out, n)), load(os.path.join(a.folder, n))) for n in names]))
            row = dict(sigma=s, images=len(names), noisy_psnr=ref["noisy_psnr"], cbm3d_psnr=ref["cbm3d_psnr"], latent_psnr=round(ours, 3),
                       diff_db=round(ours - ref["cbm3d_psnr"], 3), cbm3d_cpu_s_per_mp=ref["cbm3d_cpu_s_per_mp"], latent_cpu_s_per_mp=round(cpu, 2),
                       speedup=round(ref["cbm3d_cpu_s_per_mp"] / cpu, 1), cbm3d_cached_from=ref.get("cached_from"))
            rows.append(row)
            print(f"{s:5g} {row['noisy_psnr']:7.2f} {row['cbm3d_psnr']:7.2f} {row['latent_psnr']:7.2f} {row['diff_db']:+6.2f}   "
                  f"{row['cbm3d_cpu_s_per_mp']:14.1f} {row['latent_cpu_s_per_mp']:15.2f} {row['speedup']:7.1f}x"
                  + (f"   (CBM3D cached {ref['cached_from']})" if ref.get("cached_from") else ""))
    else:
        names = sorted(os.path.basename(f) for f in glob.glob(os.path.join(a.folder, "noisy", "*.png")))[: a.limit or None]
        noisy = os.path.join(work, "noisy")
        os.makedirs(noisy)
        for n in names:
            os.symlink(os.path.abspath(os.path.join(a.folder, "noisy", n)), os.path.join(noisy, n))
        ref = cbm3d(["--pairs", a.folder, "--sigmas", a.cbm3d_sigmas] + (["--limit", str(a.limit)] if a.limit else []), a.cache)
        out = os.path.join(work, "out")
        cpu = latent_denoise(noisy, out, a.model, names, a.ensemble, a.real_noise)
        ours = [psnr(load(os.path.join(out, n)), load(os.path.join(a.folder, "clean", n))) for n in names]
        row = dict(images=len(names), noisy_psnr=ref["noisy_psnr"], cbm3d_psnr=ref["cbm3d_psnr"], cbm3d_best_sigma=ref["cbm3d_best_sigma"],
                   cbm3d_psnr_by_sigma=ref["cbm3d_psnr_by_sigma"], latent_psnr=round(float(np.mean(ours)), 3),
                   latent_over_noisy_db=round(float(np.mean(ours)) - ref["noisy_psnr"], 3), diff_db=round(float(np.mean(ours)) - ref["cbm3d_psnr"], 3),
                   cbm3d_cpu_s_per_mp=ref["cbm3d_cpu_s_per_mp"], latent_cpu_s_per_mp=round(cpu, 2), speedup=round(ref["cbm3d_cpu_s_per_mp"] / cpu, 1),
                   cbm3d_cached_from=ref.get("cached_from"), latent_per_image=[round(v, 2) for v in ours])
        rows.append(row)
        print(f"{len(names)} pairs: noisy {row['noisy_psnr']:.2f} dB; CBM3D best fixed sigma {row['cbm3d_best_sigma']:g}: {row['cbm3d_psnr']:.2f} dB "
              f"(by sigma {row['cbm3d_psnr_by_sigma']}); latent {row['latent_psnr']:.2f} dB ({row['latent_over_noisy_db']:+.2f} over noisy, "
              f"{row['diff_db']:+.2f} vs CBM3D)" + (f"  (CBM3D cached {ref['cached_from']})" if ref.get("cached_from") else ""))
        print(f"CPU-s/MP: CBM3D {row['cbm3d_cpu_s_per_mp']:.1f} (per sigma tried), latent denoise {row['latent_cpu_s_per_mp']:.2f}, "
              f"latent {row['speedup']:.1f}x faster")
    print(json.dumps(dict(mode=a.mode, folder=a.folder, model=a.model, ensemble=a.ensemble, real_noise=a.real_noise, rows=rows)))


if __name__ == "__main__":
    main()
