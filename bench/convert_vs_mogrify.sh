#!/usr/bin/env bash
# latent convert vs ImageMagick's mogrify (and libpng's bare pngcopy) on the same 10,000 MNIST
# PNGs, side by side in one run: wall time, CPU time and peak RSS from /usr/bin/time -v.
# Usage: bench/convert_vs_mogrify.sh [COUNT]   (needs ../shared/data/mnist; installs imagemagick)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-10000}
work=bench/out/convert
latent=.build/release/latent
[ -x "$latent" ] || swift build -c release --product latent >/dev/null
command -v mogrify >/dev/null || apt-get -o DPkg::Lock::Timeout=300 install -y -qq imagemagick >/dev/null
rm -rf "$work"; mkdir -p "$work"
python3 bench/make_mnist_pngs.py "$work/in" "$count" >/dev/null
if [ ! -x bench/pngcopy ]; then
  gcc -O2 -o bench/pngcopy ../shared/bench/pngcopy.c $(pkg-config --cflags --libs libpng) 2>/dev/null || true
fi

measure() {  # name, command...
  local name=$1; shift
  sync; /usr/bin/time -v "$@" >"$work/$name.out" 2>"$work/$name.time" || true
  names+=("$name")
}

echo "# $count MNIST PNGs (28x28 grey), $(nproc) cores; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
names=()
measure latent-convert "$latent" convert "$work/in" -o "$work/latent" --quiet
measure latent-convert-1job "$latent" convert "$work/in" -o "$work/latent1" --jobs 1 --quiet
mkdir -p "$work/mogrify"
measure mogrify bash -c "cd $work/in && exec mogrify -path ../mogrify -format png *.png"
if [ -x bench/pngcopy ]; then
  mkdir -p "$work/pngcopy"
  measure pngcopy-roundtrip bench/pngcopy roundtrip "$work/in" "$work/pngcopy"
fi
python3 - "$work" "$count" "${names[@]}" <<'PY'
import re, sys
work, count, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def field(text, key):
    return re.search(re.escape(key) + r": (.*)", text).group(1).strip()
rows = {}
for n in names:
    t = open(f"{work}/{n}.time").read()
    wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(field(t, "Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"))))
    rows[n] = (wall, float(field(t, "User time (seconds)")), float(field(t, "System time (seconds)")),
               int(field(t, "Maximum resident set size (kbytes)")) / 1024, field(t, "Exit status"))
print(f"{'tool':<22}{'wall s':>9}{'user s':>9}{'sys s':>9}{'peak MB':>10}{'files/s':>10}{'exit':>6}")
for n, (w, u, s, m, e) in rows.items():
    print(f"{n:<22}{w:>9.2f}{u:>9.2f}{s:>9.2f}{m:>10.1f}{count / w:>10.0f}{e:>6}")
lw = rows["latent-convert"][0]
print(f"latent convert vs mogrify: {rows['mogrify'][0] / lw:.2f}x the speed (wall), "
      f"{(rows['mogrify'][1] + rows['mogrify'][2]) / (rows['latent-convert'][1] + rows['latent-convert'][2]):.2f}x less CPU, "
      f"peak memory latent {rows['latent-convert'][3]:.1f} MB vs mogrify {rows['mogrify'][3]:.1f} MB")
if "pngcopy-roundtrip" in rows:
    print(f"latent convert vs pngcopy (bare libpng, 1 thread): {rows['pngcopy-roundtrip'][0] / lw:.2f}x the speed (wall)")
PY
for d in latent mogrify; do echo "outputs $d: $(find "$work/$d" -name '*.png' | wc -l)"; done
