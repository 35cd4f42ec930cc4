#!/usr/bin/env python3
"""Copies the photos a `latent train` run held out for validation into a folder, so that a
model can be scored on colour photographs it never trained on (e.g. with bench/colour_bench.py).
Without --val-data, `latent train` shuffles the folder's PNGs (in name order) with its --seed and
holds out the first tenth (PatchTrainer.loadSplit); this repeats that shuffle (the generator is
latent's RandomGenerator, xoshiro256** seeded by splitmix64, and Swift's Fisher-Yates shuffle).
  python3 scripts/heldout_photos.py DATA SEED OUT     e.g. ../shared/data/denoise/cbsd432 11 heldout/
(the shipped colour model: cbsd432, seed 11, 43 photos)."""
import os
import shutil
import sys

M = (1 << 64) - 1


class Generator:
    def __init__(self, seed):
        x, self.s = seed, []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & M
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
            self.s.append(z ^ (z >> 31))

    def next(self):
        s0, s1, s2, s3 = self.s
        a = (s1 * 5) & M
        result = ((((a << 7) | (a >> 57)) & M) * 9) & M
        t = (s1 << 17) & M
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & M
        self.s = [s0, s1, s2, s3]
        return result

    def below(self, n):
        """Swift's next(upperBound:) (Lemire's multiply and reject)."""
        m = self.next() * n
        if (m & M) < n:
            t = ((1 << 64) - n) % n
            while (m & M) < t:
                m = self.next() * n
        return m >> 64


def heldout(names, seed):
    order, g = list(range(len(names))), Generator(seed)
    for i in range(len(order) - 1):
        j = i + g.below(len(order) - i)
        order[i], order[j] = order[j], order[i]
    return [names[k] for k in order[:max(1, len(names) // 10)]]


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    data, seed, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    names = sorted(f for f in os.listdir(data) if f.lower().endswith(".png"))
    os.makedirs(out, exist_ok=True)
    picked = heldout(names, seed)
    for n in picked:
        shutil.copyfile(os.path.join(data, n), os.path.join(out, n))
    print(f"{len(picked)} of {len(names)} photos held out with seed {seed}: copied to {out}")


if __name__ == "__main__":
    main()
