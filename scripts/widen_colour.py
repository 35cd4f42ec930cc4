#!/usr/bin/env python3
"""Grows a noise-map conv-dae's widths at full, half and quarter resolution, so that the grown
network computes the same function: the new channels get random weights in and zero weights
out, and training then finds a use for them. The estimator (estimator.* tensors) is dropped:
bundle one again with scripts/bundle_estimator.py. Written atomically.
  python3 scripts/widen_colour.py MODEL OUT C0          (the full-resolution level only)
  python3 scripts/widen_colour.py MODEL OUT C0,C1       (full and half resolution)
  python3 scripts/widen_colour.py MODEL OUT C0,C1,C2    (quarter resolution too)
then train on from OUT with `latent train ... --widths C0,C1,C2 --init-from OUT`.
Full resolution: head0, head1, dec0 and the 1x1 layers next to them (down1's inputs, up0's
outputs). Half resolution: down1, enc1, dec1, and down2's inputs, up1's outputs, up0's inputs.
Quarter resolution: down2's outputs, mid1, mid2 and the residual blocks (their new channels pass
through the blocks' identity, and every layer that reads them has zero weights for them), up1's
inputs. A model with full-resolution residual blocks (fine*) cannot be grown at full resolution.
Session 12 (issue 11): 32 → 48 from the shipped model, 10 epochs of the shipped recipe
(`INIT=OUT scripts/finetune_colour.sh wide1 --log-loss --widths 48,64,128`): +0.16 dB at white
σ 5, +0.06 at σ 15, none on real noise, for 31% more multiply-adds per pixel."""
import sys

import numpy as np

from safetensors_io import read_model, write


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    src, out, spec = sys.argv[1], sys.argv[2], sys.argv[3]
    meta, t = read_model(src)
    t = {k: v for k, v in t.items() if not k.startswith("estimator.")}
    for k in [k for k in meta if k.startswith("estimator")]:
        meta.pop(k)
    rng = np.random.default_rng(5)
    old = [int(w) for w in meta["widths"].split(",")]
    new = [int(w) for w in spec.split(",")] + old[len(spec.split(",")):]
    if len(new) != 3 or any(n < o for n, o in zip(new, old)) or new == old:
        sys.exit(f"widen_colour.py: {src} is {meta['widths']} wide; give C0, C0,C1 or C0,C1,C2, none narrower, not {spec}")
    if new[0] != old[0] and any(k.startswith("fine") for k in t):
        sys.exit(f"widen_colour.py: {src} has full-resolution residual blocks, which this script does not grow")

    def get(k):
        _, shape, blob = t[k]
        return np.frombuffer(blob, dtype=np.float32).reshape(shape).copy()

    def put(k, a):
        t[k] = ("F32", list(a.shape), a.astype(np.float32).tobytes())

    def grow_out(k, n, fan_in):   # n more output channels: He-initialised weights, zero bias
        w, b = get(k + ".weight"), get(k + ".bias")
        put(k + ".weight", np.concatenate([w, np.sqrt(2 / fan_in) * rng.standard_normal((n,) + w.shape[1:])]))
        put(k + ".bias", np.concatenate([b, np.zeros(n)]))

    def grow_out_zero(k, n):      # n more outputs that are zero (an up layer's, shuffled into a skip's new channels)
        w, b = get(k + ".weight"), get(k + ".bias")
        put(k + ".weight", np.concatenate([w, np.zeros((n,) + w.shape[1:])]))
        put(k + ".bias", np.concatenate([b, np.zeros(n)]))

    def grow_in(k, n):            # n more input channels, zero weights (PixelUnshuffle puts channel c at 4c..4c+3)
        w = get(k + ".weight")
        put(k + ".weight", np.concatenate([w, np.zeros((w.shape[0], n) + w.shape[2:])], 1))

    n0, n1, n2 = new[0] - old[0], new[1] - old[1], new[2] - old[2]
    if n0:
        inputs = get("head0.weight").shape[1]
        grow_out("head0", n0, inputs * 9)
        grow_in("head1", n0); grow_out("head1", n0, new[0] * 9)
        grow_in("down1", 4 * n0)
        grow_out_zero("up0", 4 * n0)
        grow_in("dec0", n0); grow_out("dec0", n0, new[0] * 9)
        grow_in("tail", n0)
    if n1:
        grow_out("down1", n1, 4 * new[0])
        grow_in("enc1", n1); grow_out("enc1", n1, new[1] * 9)
        grow_in("down2", 4 * n1)
        grow_out_zero("up1", 4 * n1)
        grow_in("dec1", n1); grow_out("dec1", n1, new[1] * 9)
        grow_in("up0", n1)
    if n2:
        grow_out("down2", n2, 4 * new[1])
        res = sorted((k[:-len(".weight")] for k in t if k.startswith("res") and k.endswith(".weight")), key=lambda k: int(k[3:]))
        for k in ["mid1", "mid2"] + res:
            grow_in(k, n2); grow_out(k, n2, new[2] * 9)
        grow_in("up1", n2)
    meta["widths"] = ",".join(map(str, new))
    write(out, meta, t)
    print(f"wrote {out}: widths {','.join(map(str, old))} → {meta['widths']}")


if __name__ == "__main__":
    main()
