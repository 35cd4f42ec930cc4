#!/usr/bin/env bash
# Issue 14's bars, measured. Part 1: every crafted model file of fuzz/corpus/model (and a 20 GB
# sparse file, a FIFO, /dev/zero and a folder) through `latent denoise` and `latent reconstruct`.
# Part 2: tiny PNGs that declare huge images through `info`, `convert` and `denoise`.
# Prints per run the exit status, the lines on stderr, peak RSS and seconds; fails if any run
# crashes (a signal), exits 0, prints other than one error line naming the file, or passes the memory bar
# (256 MB for models, 128 MB for PNGs) or 5 s.
#   scripts/hostile_inputs.sh [path/to/latent]
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release/latent}
[ -x "$bin" ] || { echo "build first: swift build -c release --product latent" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in" "$work/folder.safetensors" "$work/png"
cp samples/noisy-digits/$(ls samples/noisy-digits | head -1) "$work/in/digit.png"
truncate -s 20G "$work/sparse-20g.safetensors"
mkfifo "$work/fifo.safetensors"
files=(fuzz/corpus/model/bad-*.safetensors "$work/sparse-20g.safetensors" "$work/fifo.safetensors" /dev/zero "$work/folder.safetensors")
fails=0; worst_kb=0; worst_s=0
# check NAME CMD LIMIT_KB FILE -- ARGS...: runs latent ARGS, checks the outcome.
check() {
  local name=$1 cmd=$2 limit=$3 f=$4; shift 5
  rm -rf "$work/out"
  /usr/bin/time -f '%M %e' -o "$work/time" timeout -s KILL 60 "$bin" "$@" >/dev/null 2>"$work/err"
  local st=$? kb secs lines ok=1
  read -r kb secs < <(tail -1 "$work/time")
  # (a batch's closing summary, "converted 0, skipped 0, failed 1", is not an error line)
  lines=$(grep -cvE '^(converted|denoised|reconstructed) [0-9]+, ' "$work/err")
  grep -q "terminated by signal" "$work/time" && ok=0
  { [ "$st" -eq 0 ] || [ "$st" -ge 128 ]; } && ok=0
  [ "$lines" -eq 1 ] || ok=0
  grep -qF -- "$f" "$work/err" || ok=0
  [ "$kb" -lt "$limit" ] || ok=0
  awk -v s="$secs" 'BEGIN{exit !(s < 5)}' || ok=0
  [ "$kb" -gt "$worst_kb" ] && worst_kb=$kb
  awk -v s="$secs" -v w="$worst_s" 'BEGIN{exit !(s > w)}' && worst_s=$secs
  printf '%-38s %-11s %4s %5s %8.1f %6s%s\n' "$name" "$cmd" "$st" "$lines" "$(echo "$kb/1024" | bc -l)" "$secs" \
    "$([ $ok -eq 1 ] || echo "  FAIL: $(head -c 200 "$work/err")")"
  [ $ok -eq 1 ] || fails=$((fails + 1))
}
printf '%-38s %-11s %4s %5s %8s %6s\n' file command exit lines "RSS MB" s
for f in "${files[@]}"; do
  for cmd in denoise reconstruct; do
    check "$(basename "$f")" $cmd 262144 "$f" -- $cmd "$work/in" -o "$work/out" --model "$f"
  done
done
models_worst=$worst_kb
# Part 2: PNGs of a few dozen bytes that declare huge images (IHDR, then 10 bytes of a zlib stream).
python3 - "$work" <<'PY'
import struct, sys, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
def png(w, h, depth, ctype, interlace=0):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(64))[:10]) + chunk(b"IEND", b"")
for name, args in {"wide-1e6x256-rgba16": (1000000, 256, 16, 6), "wide-interlaced": (1000000, 256, 16, 6, 1),
                   "tall-256x1e6-rgba16": (256, 1000000, 16, 6), "square-16000-rgba16": (16000, 16000, 16, 6),
                   "wider-than-libpng-writes": (2000000, 100, 8, 0), "grey-1e6x256": (1000000, 256, 8, 0)}.items():
    open(f"{sys.argv[1]}/png/{name}.png", "wb").write(png(*args))
PY
worst_kb=0
for f in "$work"/png/*.png; do
  check "$(basename "$f")" info 131072 "$f" -- info "$f"
  check "$(basename "$f")" convert 131072 "$f" -- convert "$f" -o "$work/out"
  check "$(basename "$f")" denoise 131072 "$f" -- denoise "$f" -o "$work/out"
done
echo "model files: ${#files[@]} x 2 commands, worst peak RSS $(echo "$models_worst/1024" | bc -l | xargs printf '%.1f') MB (bar 256)"
echo "huge-declaring PNGs: $(ls "$work"/png | wc -l) x 3 commands, worst peak RSS $(echo "$worst_kb/1024" | bc -l | xargs printf '%.1f') MB (bar 128)"
echo "slowest run ${worst_s} s (bar 5); $fails failures"
[ $fails -eq 0 ]
