#!/usr/bin/env python3
"""What a colour model's noise estimator reads on flat grey images whose noise the channels
share in part (session 19's probe, kept): for each ρ, a 256x256 image at grey level LEVEL with
white noise of σ per channel, a part ρ of its variance common to the three channels, saved as
an 8-bit PNG and read by `latent denoise --json`. Prints the reading next to the truth in the
model's own map space (its file's noise_map_space): each channel's σ (rgb), or the σ of luma (R+G+B)/√3 and of the two
chroma components (opponent): σ·√(1 + 2ρ) and σ·√(1 − ρ).

    python3 scripts/flat_noise_probe.py [MODEL] [--sigma 15] [--level 128] [--rho 0,0.55,0.9]

MODEL: a built-in name or a .safetensors file (default photo-color). LATENT: the binary
(default .build/release/latent). Needs numpy and pillow."""
import argparse, json, math, os, re, subprocess, sys, tempfile
import numpy as np
from PIL import Image


def read_meta(path):
    """A safetensors file's metadata (its header's __metadata__)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        return json.loads(f.read(n)).get("__metadata__", {})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", default="photo-color")
    ap.add_argument("--sigma", type=float, default=15)
    ap.add_argument("--level", type=float, default=128)
    ap.add_argument("--rho", default="0,0.55,0.9")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    latent = os.environ.get("LATENT", ".build/release/latent")
    rng = np.random.default_rng(a.seed)
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(tmp + "/in")
        rhos = [float(r) for r in a.rho.split(",")]
        for i, rho in enumerate(rhos):
            common = rng.standard_normal((256, 256, 1))
            own = rng.standard_normal((256, 256, 3))
            noise = math.sqrt(rho) * common + math.sqrt(1 - rho) * own
            img = np.clip(np.round(a.level + a.sigma * noise), 0, 255).astype(np.uint8)
            Image.fromarray(img, "RGB").save("%s/in/rho%d.png" % (tmp, i))
        r = subprocess.run([latent, "denoise", tmp + "/in", "-o", tmp + "/out", "--model", a.model, "--json", "--quiet"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("flat_noise_probe.py: latent failed: " + r.stderr.strip())
        files = {os.path.basename(f["file"]): f for f in json.loads(r.stdout)["files"]}
        opponent = a.model.endswith(".safetensors") and read_meta(a.model).get("noise_map_space") == "opponent"
        print("map space: %s; σ %g per channel at level %g" % ("opponent (luma, chroma, chroma)" if opponent else "rgb (per channel)",
                                                              a.sigma, a.level))
        for i, rho in enumerate(rhos):
            # The JSON summary gives each channel's σ; a model of another map space says its own
            # planes in the output's provenance: "noise level function, mean (opponent map a,b,c) r,g,b".
            read = files["rho%d.png" % i].get("sigma")
            if opponent:
                info = subprocess.run([latent, "info", "--json", files["rho%d.png" % i]["output"]], capture_output=True, text=True)
                text = json.loads(info.stdout)["text"].get("latent:sigma", "")
                m = re.search(r"\(opponent map ([0-9.,]+)\)", text)
                read = [float(v) for v in m.group(1).split(",")] if m else None
            truth = ([a.sigma * math.sqrt(1 + 2 * rho)] + [a.sigma * math.sqrt(1 - rho)] * 2) if opponent else [a.sigma] * 3
            print("ρ %.2f  truth %s  read %s" % (rho, " ".join("%5.1f" % t for t in truth),
                                                 " ".join("%5.1f" % s for s in read) if read else "-"))


if __name__ == "__main__":
    main()
