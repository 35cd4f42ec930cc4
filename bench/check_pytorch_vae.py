#!/usr/bin/env python3
"""A VAE trained in PyTorch and saved with safetensors loads in latent and reconstructs the same
images within 1e-4. Trains the reference recipe (../shared/bench/pytorch_vae.py, 1 epoch by
default) with --save, reconstructs 1,000 test images in PyTorch (decode(mu), sigmoid) and with
`latent-bench recon`, and prints the largest absolute difference.
Skips (exit 0, saying so) when torch or safetensors is missing.

  python3 bench/check_pytorch_vae.py [--epochs 1] [--data ../shared/data/mnist]"""
import argparse, os, subprocess, sys
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
ap = argparse.ArgumentParser()
ap.add_argument("--epochs", type=int, default=1)
ap.add_argument("--data", default=os.path.join(root, "..", "shared", "data", "mnist"))
a = ap.parse_args()
try:
    import numpy as np, torch
    from safetensors.torch import load_file
except ImportError as e:
    print(f"SKIP: {e} (pip install torch safetensors numpy)")
    sys.exit(0)
bench = os.path.join(root, "..", "shared", "bench")
out = os.path.join(here, "out", "pytorch-vae"); os.makedirs(out, exist_ok=True)
model_path = os.path.join(out, "pytorch-vae.safetensors")
subprocess.run([sys.executable, os.path.join(bench, "pytorch_vae.py"), "--epochs", str(a.epochs), "--data", a.data,
                "--save", model_path], check=True, stdout=subprocess.DEVNULL)
sys.path.insert(0, bench)
import mnist  # noqa: E402
_, xte = mnist.load(a.data)
x = torch.from_numpy(xte[:1000].copy())
sd = load_file(model_path)
with torch.no_grad():
    h = torch.relu(x @ sd["fc1.weight"].T + sd["fc1.bias"])
    mu = h @ sd["fc21.weight"].T + sd["fc21.bias"]
    r = torch.sigmoid(torch.relu(mu @ sd["fc3.weight"].T + sd["fc3.bias"]) @ sd["fc4.weight"].T + sd["fc4.bias"])
x.numpy().astype("<f4").tofile(os.path.join(out, "x.f32"))
subprocess.run(["swift", "build", "-c", "release", "--product", "latent-bench"], cwd=root, check=True, stdout=subprocess.DEVNULL)
subprocess.run([os.path.join(root, ".build", "release", "latent-bench"), "recon", "--model", model_path,
                "--input", os.path.join(out, "x.f32"), "--output", os.path.join(out, "latent.f32")], check=True)
ours = np.fromfile(os.path.join(out, "latent.f32"), dtype="<f4").reshape(r.shape)
diff = float(np.abs(ours - r.numpy()).max())
print(f"max |latent - pytorch| over {r.shape[0]} reconstructions: {diff:.2e} ({'PASS' if diff < 1e-4 else 'FAIL'}: bar 1e-4)")
sys.exit(0 if diff < 1e-4 else 1)
