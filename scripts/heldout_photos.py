#!/usr/bin/env python3
"""Copies the photos a `latent train` run held out for validation into a folder, so that a
model can be scored on colour photographs it never trained on (e.g. with bench/colour_bench.py).
Without --val-data, `latent train` holds out a seeded tenth of the folder; `latent-bench heldout`
lists those files from the trainer's own split (LATENT_BENCH: the binary, default
.build/release/latent-bench: `swift build -c release --product latent-bench`).
  python3 scripts/heldout_photos.py DATA SEED OUT     e.g. ../shared/data/denoise/cbsd432 11 heldout/
(the shipped colour model: cbsd432, seed 11, patch 96, 43 photos)."""
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.environ.get("LATENT_BENCH", os.path.join(ROOT, ".build", "release", "latent-bench"))


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    data, seed, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if not os.access(BENCH, os.X_OK):
        sys.exit(f"heldout_photos.py: {BENCH}: not built (swift build -c release --product latent-bench)")
    run = subprocess.run([BENCH, "heldout", data, "--seed", str(seed), "--rgb"], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"heldout_photos.py: latent-bench heldout failed: {run.stderr.strip()}")
    picked = run.stdout.split("\n")[:-1]
    # Made in OUT.tmp and moved into place when complete: the scripts that call this skip OUT
    # when it exists, so a half-copied OUT would pass for the whole held-out set (and the photos
    # missing from it would be trained on).
    tmp = out.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for p in picked:
        shutil.copyfile(p, os.path.join(tmp, os.path.basename(p)))
    if os.path.isdir(out):
        for name in os.listdir(tmp):
            os.replace(os.path.join(tmp, name), os.path.join(out, name))
        os.rmdir(tmp)
    else:
        os.replace(tmp, out)
    print(f"{len(picked)} photos held out with seed {seed}: copied to {out}")


if __name__ == "__main__":
    main()
