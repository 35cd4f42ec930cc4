#!/usr/bin/env python3
"""Grows a noise-map conv-dae's full-resolution width (head0, head1, dec0 and the 1x1 layers
next to them) from its current width to C0 channels, so that the grown network computes the
same function: the new channels get random weights in and zero weights out, and training
then finds a use for them. The estimator (estimator.* tensors) is dropped: bundle one again
with scripts/bundle_estimator.py. Written atomically.
  python3 scripts/widen_colour.py MODEL OUT C0
then train on from OUT with `latent train ... --widths C0,64,128 --init-from OUT`.
Session 12 (issue 11): 32 → 48 from the shipped model, 10 epochs of the shipped recipe
(`INIT=OUT scripts/finetune_colour.sh wide1 --log-loss --widths 48,64,128`): +0.16 dB at white
σ 5, +0.06 at σ 15, none on real noise, for 31% more multiply-adds per pixel."""
import sys

import numpy as np

from safetensors_io import read_model, write


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    src, out, wide = sys.argv[1], sys.argv[2], int(sys.argv[3])
    meta, t = read_model(src)
    t = {k: v for k, v in t.items() if not k.startswith("estimator.")}
    for k in [k for k in meta if k.startswith("estimator")]:
        meta.pop(k)
    rng = np.random.default_rng(5)

    def get(k):
        _, shape, blob = t[k]
        return np.frombuffer(blob, dtype=np.float32).reshape(shape).copy()

    def put(k, a):
        t[k] = ("F32", list(a.shape), a.astype(np.float32).tobytes())

    old = get("head1.weight").shape[0]
    n = wide - old
    if n <= 0:
        sys.exit(f"widen_colour.py: {src} is already {old} channels wide")
    inputs = get("head0.weight").shape[1]

    def grow_out(k, fan_in):   # n more output channels: He-initialised weights, zero bias
        w, b = get(k + ".weight"), get(k + ".bias")
        put(k + ".weight", np.concatenate([w, np.sqrt(2 / fan_in) * rng.standard_normal((n,) + w.shape[1:])]))
        put(k + ".bias", np.concatenate([b, np.zeros(n)]))

    def grow_in(k, per=1):     # n·per more input channels, zero weights (PixelUnshuffle puts channel c at 4c..4c+3)
        w = get(k + ".weight")
        put(k + ".weight", np.concatenate([w, np.zeros((w.shape[0], n * per) + w.shape[2:])], 1))

    grow_out("head0", inputs * 9)
    grow_in("head1"); grow_out("head1", wide * 9)
    grow_in("down1", 4)
    w, b = get("up0.weight"), get("up0.bias")   # its outputs, shuffled, are the skip's new channels: zero
    put("up0.weight", np.concatenate([w, np.zeros((4 * n,) + w.shape[1:])]))
    put("up0.bias", np.concatenate([b, np.zeros(4 * n)]))
    grow_in("dec0"); grow_out("dec0", wide * 9)
    grow_in("tail")
    meta["widths"] = ",".join([str(wide)] + meta["widths"].split(",")[1:])
    write(out, meta, t)
    print(f"wrote {out}: full-resolution width {old} → {wide}")


if __name__ == "__main__":
    main()
