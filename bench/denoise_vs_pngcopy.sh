#!/usr/bin/env bash
# latent denoise (mnist-dae) on 10,000 noisy MNIST PNGs vs the I/O floor: ../shared/bench/pngcopy.c
# (libpng decode + encode, nothing else; 1 process, and 2 processes on halves), and ImageMagick's
# mogrify doing a plain copy; then peak memory of latent denoise for 100 vs 10,000 files.
# All in one run, same files, same disk. Usage: bench/denoise_vs_pngcopy.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-10000}
work=${WORK:-/dev/shm/latent-bench-denoise}  # a RAM disk by default: the ext4 disk here is dominated by file creation in the kernel and very noisy
swift build -c release --product latent >/dev/null
latent=.build/release/latent
command -v mogrify >/dev/null || apt-get -o DPkg::Lock::Timeout=300 install -y -qq imagemagick >/dev/null
[ -x bench/pngcopy ] || gcc -O2 -o bench/pngcopy ../shared/bench/pngcopy.c $(pkg-config --cflags --libs libpng)
rm -rf "$work"; mkdir -p "$work"
python3 bench/make_mnist_pngs.py "$work/in" "$count" --noise 0.5 --seed 3 >/dev/null
python3 -c "import os,shutil,sys; d=sys.argv[1]; os.makedirs(d+'/in100'); [shutil.copy(d+'/in/'+f, d+'/in100/') for f in sorted(os.listdir(d+'/in'))[:100]]" "$work"
names=()
measure() { local name=$1; shift; sync; /usr/bin/time -v "$@" >"$work/$name.out" 2>"$work/$name.time" || true; names+=("$name"); }
echo "# $count noisy MNIST PNGs (28x28 grey, gaussian 0.5), $(nproc) cores"
mkdir -p "$work/pngcopy" "$work/pngcopy2" "$work/mogrify"
measure pngcopy bench/pngcopy roundtrip "$work/in" "$work/pngcopy"
measure latent-denoise "$latent" denoise "$work/in" -o "$work/latent" --model mnist-dae --quiet
measure pngcopy-2proc bash -c "bench/pngcopy roundtrip $work/in $work/pngcopy2 0/2 & bench/pngcopy roundtrip $work/in $work/pngcopy2 1/2 & wait"
measure mogrify bash -c "cd $work/in && exec mogrify -path ../mogrify -format png *.png"
measure latent-denoise-100 "$latent" denoise "$work/in100" -o "$work/latent100" --model mnist-dae --quiet
python3 - "$work" "$count" "${names[@]}" <<'PY'
import re, sys
work, count, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def field(t, key): return re.search(re.escape(key) + r": (.*)", t).group(1).strip()
rows = {}
for n in names:
    t = open(f"{work}/{n}.time").read()
    wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(field(t, "Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"))))
    files = 100 if n.endswith("-100") else count
    rows[n] = (wall, float(field(t, "User time (seconds)")) + float(field(t, "System time (seconds)")),
               int(field(t, "Maximum resident set size (kbytes)")) / 1024, files / wall)
print(f"{'run':<22}{'wall s':>9}{'cpu s':>9}{'peak MB':>10}{'files/s':>10}")
for n, (w, c, m, r) in rows.items():
    print(f"{n:<22}{w:>9.2f}{c:>9.2f}{m:>10.1f}{r:>10.0f}")
d = rows["latent-denoise"]
print(f"latent denoise / pngcopy (1 process): {d[3] / rows['pngcopy'][3]:.2f}x the rate (bar: >= 0.8)")
print(f"latent denoise / pngcopy (2 processes): {d[3] / rows['pngcopy-2proc'][3]:.2f}x the rate")
print(f"latent denoise / mogrify plain copy: {d[3] / rows['mogrify'][3]:.2f}x the rate")
print(f"peak RSS: {count} files {d[2]:.1f} MB vs 100 files {rows['latent-denoise-100'][2]:.1f} MB "
      f"(+{d[2] - rows['latent-denoise-100'][2]:.1f} MB; bar: a few MB, under 150 MB)")
PY
echo "outputs: $(find "$work/latent" -name '*.png' | wc -l) of $count"
