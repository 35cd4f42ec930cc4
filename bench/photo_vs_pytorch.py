#!/usr/bin/env python3
"""latent's photo models against PyTorch running the same network, one thread each.

  python3 bench/photo_vs_pytorch.py infer [--model photo] [--images DIR] [--limit N] [--sigma S]
      Whole-image inference: latent (`latent-bench infer`, CPU time around the network) beside a
      faithful PyTorch copy of ConvDenoiser that loads the same .safetensors file: eager NCHW,
      eager channels_last, and torch.compile with freezing (when it compiles here). The copy's
      outputs are first checked against latent's (within one grey level), then ROUNDS alternating
      rounds are timed; the median CPU-s/MP of each program and its ratio to latent are printed.

  python3 bench/photo_vs_pytorch.py whole-run [--model photo] [--size 2048] [--small 20]
      A whole `latent denoise` process (PNG in, σ measured, PNG out, --jobs 1) against latent's
      whole-image inference of the same network on the same image, and a folder of small 64x64
      images the same way: CPU-s/MP of each and the ratio (the issue's bars: 1.15x and 2x).

Defaults: grey `photo` on Set12 (../shared/data/denoise/set12) at σ 25; `--model photo-color`
uses the first 12 noisy photographs of polyu-val (their real noise; the model is given σ).
Needs: pip install torch numpy pillow. One thread everywhere (the machine has two cores and is
noisy, so the rounds alternate and medians are reported).
"""
import argparse, glob, json, os, resource, shutil, statistics, struct, subprocess, sys, tempfile, time

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build", "release")


def build():
    subprocess.run(["swift", "build", "-c", "release", "--product", "latent-bench"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["swift", "build", "-c", "release", "--product", "latent"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def model_file(spec):
    if spec.endswith(".safetensors"):
        return spec
    return os.path.join(ROOT, "Sources", "Models", "Builtin", spec + ".safetensors")


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", name
        a, b = t["data_offsets"]
        tensors[name] = np.frombuffer(raw[base + a:base + b], dtype="<f4").reshape(t["shape"]).copy()
    return tensors, meta


def load_images(files, channels):
    out = []
    for f in files:
        img = Image.open(f).convert("RGB" if channels == 3 else "L")
        a = np.asarray(img, dtype=np.uint8)
        if a.ndim == 2:
            a = a[None]
        else:
            a = a.transpose(2, 0, 1)
        h, w = a.shape[1] // 4 * 4, a.shape[2] // 4 * 4
        # latent's conversion: value · (1/255) in float32
        out.append(a[:, :h, :w].astype(np.float32) * np.float32(1.0 / 255.0))
    return out


class TorchCopy:
    """ConvDenoiser (Sources/Models/ConvDenoiser.swift) in PyTorch, weights from the same file."""

    def __init__(self, path, sigma):
        import torch
        self.torch = torch
        tensors, meta = read_safetensors(path)
        self.channels = int(meta["channels"])
        self.noise_map = meta.get("noise_input") == "map"
        blocks = int(meta.get("blocks", "0"))
        names = ["head0", "head1", "down1", "enc1", "down2", "mid1", "mid2", "up1", "dec1", "up0", "dec0", "tail"] + [f"res{i + 1}" for i in range(blocks)]
        phi = np.array([sigma / 50, (sigma / 50) ** 2], dtype=np.float32)
        self.w = {}
        for n in names:
            w, b = tensors[n + ".weight"], tensors[n + ".bias"]
            film = tensors.get(n + ".film")
            if film is not None and meta.get("noise_input") == "sigma":
                k = film.shape[0] // 2
                scale = np.float32(1) + phi @ film[:k]
                shift = phi @ film[k:]
                w = w * scale[:, None, None, None]
                b = b * scale + shift
            self.w[n] = (torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)), torch.from_numpy(np.ascontiguousarray(b, dtype=np.float32)))
        self.blocks = blocks
        self.sigma = sigma
        module = self

        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                for n, (w, b) in module.w.items():
                    conv = torch.nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], padding=w.shape[2] // 2)
                    conv.weight.data.copy_(w)
                    conv.bias.data.copy_(b)
                    setattr(self, n, conv)

            def forward(self, x):
                F = torch.nn.functional
                relu = F.relu
                e0 = relu(self.head1(relu(self.head0(x))))
                e1 = relu(self.enc1(relu(self.down1(F.pixel_unshuffle(e0, 2)))))
                m = relu(self.mid2(relu(self.mid1(relu(self.down2(F.pixel_unshuffle(e1, 2)))))))
                for i in range(module.blocks):
                    m = relu(m + getattr(self, f"res{i + 1}")(m))
                d1 = relu(self.dec1(relu(F.pixel_shuffle(self.up1(m), 2) + e1)))
                d0 = relu(self.dec0(relu(F.pixel_shuffle(self.up0(d1), 2) + e0)))
                return x[:, :module.channels] - self.tail(d0)

        self.net = Net().eval()

    def inputs(self, images):
        t = []
        for a in images:
            x = a
            if self.noise_map:
                x = np.concatenate([a, np.full_like(a, np.float32(self.sigma) / np.float32(50))])
            t.append(self.torch.from_numpy(np.ascontiguousarray(x))[None])
        return t


def cpu():
    return time.process_time()


def run_latent_infer(model, sigma, files, out=None):
    cmd = [os.path.join(BIN, "latent-bench"), "infer", "--model", model, "--sigma", str(sigma)] + (["--out", out] if out else []) + files
    r = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def infer_bench(args):
    torch = __import__("torch")
    torch.set_num_threads(1)
    files = sorted(glob.glob(os.path.join(args.images, "*.png")))[:args.limit]
    if not files:
        sys.exit(f"photo_vs_pytorch: no PNG files in {args.images}")
    copy = TorchCopy(model_file(args.model), args.sigma)
    images = load_images(files, copy.channels)
    inputs = copy.inputs(images)
    mp = sum(a.shape[1] * a.shape[2] for a in images) / 1e6

    # 1. The copy computes what latent computes.
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "out.f32")
        run_latent_infer(args.model, args.sigma, files, raw)
        ours = np.fromfile(raw, dtype="<f4")
    with torch.inference_mode():
        theirs = np.concatenate([copy.net(x).numpy().ravel() for x in inputs])
    worst = float(np.max(np.abs(ours - theirs))) * 255
    print(f"check: {len(files)} images, {mp:.3f} MP; largest difference latent vs PyTorch copy: {worst:.4f} grey levels")
    if not worst < 1:
        sys.exit("photo_vs_pytorch: the PyTorch copy does not compute what latent does; not timing")

    # 2. The variants.
    variants = {}
    with torch.inference_mode():
        variants["pytorch eager NCHW"] = (copy.net, inputs)
        cl_net = TorchCopy(model_file(args.model), args.sigma).net.to(memory_format=torch.channels_last)
        variants["pytorch eager channels_last"] = (cl_net, [x.contiguous(memory_format=torch.channels_last) for x in inputs])
    if not args.no_compile:
        try:
            import torch._inductor.config as ic
            ic.freezing = True
            comp = torch.compile(TorchCopy(model_file(args.model), args.sigma).net)
            with torch.inference_mode():
                for x in inputs:   # compile for each shape, untimed
                    comp(x)
            variants["pytorch torch.compile+freezing"] = (comp, inputs)
        except Exception as e:  # offline or no compiler: said, not hidden
            print(f"torch.compile: not available here ({type(e).__name__}: {str(e).splitlines()[0][:120]})")
    with torch.inference_mode():
        for net, xs in variants.values():
            net(xs[0])   # warm up

    times = {"latent": []}
    times.update({k: [] for k in variants})
    for r in range(args.rounds):
        times["latent"].append(run_latent_infer(args.model, args.sigma, files)["cpu_seconds"])
        for name, (net, xs) in variants.items():
            with torch.inference_mode():
                t = cpu()
                for x in xs:
                    net(x)
                times[name].append(cpu() - t)
    ref = statistics.median(times["latent"]) / mp
    print(f"\nmodel {args.model}, σ {args.sigma}, {len(files)} images from {args.images}, one thread, median of {args.rounds} alternating rounds")
    print(f"{'program':34s} {'CPU-s/MP':>9s} {'rounds':>22s} {'latent is':>11s}")
    best = None
    for name, ts in times.items():
        m = statistics.median(ts) / mp
        rounds = " ".join(f"{t / mp:.2f}" for t in ts)
        speed = "" if name == "latent" else f"{m / ref:.2f}x faster"
        print(f"{name:34s} {m:9.3f} {rounds:>22s} {speed:>11s}")
        if name != "latent":
            best = m if best is None else min(best, m)
    print(f"\nlatent vs PyTorch's best variant: {best / ref:.2f}x (bar: at least 1.20x)")


def timed(cmd):
    """CPU seconds and peak RSS (MB) of one child process, as /usr/bin/time reports them (the
    rusage of a child forked from this large Python process would count the parent's pages)."""
    r = subprocess.run(["/usr/bin/time", "-f", "%U %S %M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"photo_vs_pytorch: {' '.join(cmd)} failed: {r.stderr.strip()[-300:]}")
    u, s_, m = r.stderr.strip().splitlines()[-1].split()
    return float(u) + float(s_), float(m) / 1024


def whole_run_bench(args):
    latent = os.path.join(BIN, "latent")
    tmp = tempfile.mkdtemp(prefix="latent-wholerun-")
    try:
        channels = 3 if args.model == "photo-color" else 1
        # A big photo-like image: Set12 (or polyu) pictures tiled, with noise σ 15.
        src = sorted(glob.glob(os.path.join(args.images, "*.png")))
        rng = np.random.default_rng(0)
        tiles = [np.asarray(Image.open(f).convert("RGB" if channels == 3 else "L"), dtype=np.float32) for f in src[:12]]
        big = np.zeros((args.size, args.size) + ((3,) if channels == 3 else ()), dtype=np.float32)
        y = 0; i = 0
        while y < args.size:
            x = 0; rowh = 0
            while x < args.size:
                t = tiles[i % len(tiles)]; i += 1
                h, w = min(t.shape[0], args.size - y), min(t.shape[1], args.size - x)
                big[y:y + h, x:x + w] = t[:h, :w]
                x += w; rowh = max(rowh, h)
            y += rowh
        noisy = np.clip(np.round(big + rng.normal(0, 15, big.shape)), 0, 255).astype(np.uint8)
        bigf = os.path.join(tmp, "big.png")
        Image.fromarray(noisy).save(bigf)
        small = os.path.join(tmp, "small"); os.mkdir(small)
        for k in range(args.small):
            yy, xx = rng.integers(0, args.size - 64, 2)
            Image.fromarray(noisy[yy:yy + 64, xx:xx + 64]).save(os.path.join(small, f"s{k:03d}.png"))
        smalls = sorted(glob.glob(os.path.join(small, "*.png")))
        # σ the whole run will measure, so that inference alone is given the same.
        probe = os.path.join(tmp, "probe.png")
        subprocess.run([latent, "denoise", bigf, "-o", probe, "--model", args.model, "--jobs", "1", "--quiet"], check=True)
        info = subprocess.run([latent, "info", probe], capture_output=True, text=True).stdout
        sigma = args.sigma
        for line in info.splitlines():
            if "latent:sigma" in line:
                nums = [float(v) for v in line.replace(",", " ").split() if v.replace(".", "").isdigit()]
                if nums:
                    sigma = nums[0]
        big_mp = args.size * args.size / 1e6
        small_mp = len(smalls) * 64 * 64 / 1e6
        t = {"run big": [], "infer big": [], "run small": [], "infer small": []}
        rss = 0
        for r in range(args.rounds):
            out = os.path.join(tmp, f"out{r}.png")
            cpu_s, mb = timed([latent, "denoise", bigf, "-o", out, "--model", args.model, "--jobs", "1", "--quiet"])
            t["run big"].append(cpu_s / big_mp)
            rss = max(rss, mb)
            t["infer big"].append(run_latent_infer(args.model, sigma, [bigf])["cpu_seconds"] / big_mp)
            outd = os.path.join(tmp, f"outs{r}")
            t["run small"].append(timed([latent, "denoise", small, "-o", outd, "--model", args.model, "--jobs", "1", "--quiet"])[0] / small_mp)
            t["infer small"].append(run_latent_infer(args.model, sigma, smalls)["cpu_seconds"] / small_mp)
        med = {k: statistics.median(v) for k, v in t.items()}
        print(f"model {args.model}, one thread, median of {args.rounds} alternating rounds (CPU-s/MP; σ given to inference: {sigma:.2f})")
        print(f"{args.size}x{args.size} image: latent denoise {med['run big']:.3f}  whole-image inference {med['infer big']:.3f}  ratio {med['run big'] / med['infer big']:.2f}x (bar 1.15x)")
        print(f"{len(smalls)} 64x64 images: latent denoise {med['run small']:.3f}  whole-image inference {med['infer small']:.3f}  ratio {med['run small'] / med['infer small']:.2f}x (bar 2x)")
        print(f"peak RSS of latent denoise on the {args.size}x{args.size} image: {rss:.1f} MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["infer", "whole-run"])
    p.add_argument("--model", default="photo")
    p.add_argument("--images", default=None)
    p.add_argument("--limit", type=int, default=12)
    p.add_argument("--sigma", type=float, default=25)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--size", type=int, default=2048)
    p.add_argument("--small", type=int, default=20)
    p.add_argument("--no-compile", action="store_true")
    p.add_argument("--no-build", action="store_true")
    args = p.parse_args()
    if args.images is None:
        args.images = os.path.join(ROOT, "..", "shared", "data", "denoise", "polyu-val/noisy" if args.model == "photo-color" else "set12")
    if not args.no_build:
        build()
    infer_bench(args) if args.mode == "infer" else whole_run_bench(args)


if __name__ == "__main__":
    main()
