#!/usr/bin/env bash
# Runs every crafted model file of fuzz/corpus/model (and a 20 GB sparse file, a FIFO, /dev/zero
# and a folder) through `latent denoise` and `latent reconstruct`, and prints per file the exit
# status, the lines on stderr, peak RSS and seconds; fails if any bad file crashes (a signal), exits
# 0, prints other than one line, or passes 256 MB or 5 s.
#   scripts/hostile_models.sh [path/to/latent]
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release/latent}
[ -x "$bin" ] || { echo "build first: swift build -c release --product latent" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in" "$work/folder.safetensors"
cp samples/noisy-digits/$(ls samples/noisy-digits | head -1) "$work/in/digit.png"
truncate -s 20G "$work/sparse-20g.safetensors"
mkfifo "$work/fifo.safetensors"
files=(fuzz/corpus/model/bad-*.safetensors "$work/sparse-20g.safetensors" "$work/fifo.safetensors" /dev/zero "$work/folder.safetensors")
fails=0; worst_kb=0; worst_s=0
printf '%-34s %-11s %4s %5s %8s %6s\n' file command exit lines "RSS MB" s
for f in "${files[@]}"; do
  for cmd in denoise reconstruct; do
    rm -rf "$work/out"
    /usr/bin/time -f '%M %e' -o "$work/time" timeout -s KILL 60 "$bin" $cmd "$work/in" -o "$work/out" --model "$f" \
      >/dev/null 2>"$work/err"
    st=$?
    read -r kb secs < <(tail -1 "$work/time")
    lines=$(wc -l < "$work/err")
    ok=1
    # /usr/bin/time reports a signal as "Command terminated by signal N" and 128+N
    grep -q "terminated by signal" "$work/time" && ok=0
    [ "$st" -eq 0 ] || [ "$st" -ge 128 ] && ok=0
    [ "$lines" -eq 1 ] || ok=0
    grep -qF -- "$f" "$work/err" || ok=0
    [ "$kb" -lt 262144 ] || ok=0
    awk -v s="$secs" 'BEGIN{exit !(s < 5)}' || ok=0
    [ "$kb" -gt "$worst_kb" ] && worst_kb=$kb
    awk -v s="$secs" -v w="$worst_s" 'BEGIN{exit !(s > w)}' && worst_s=$secs
    printf '%-34s %-11s %4s %5s %8.1f %6s%s\n' "$(basename "$f")" "$cmd" "$st" "$lines" "$(echo "$kb/1024" | bc -l)" "$secs" \
      "$([ $ok -eq 1 ] || echo "  FAIL: $(head -c 200 "$work/err")")"
    [ $ok -eq 1 ] || fails=$((fails + 1))
  done
done
echo "${#files[@]} files x 2 commands: $fails failures; worst peak RSS $(echo "$worst_kb/1024" | bc -l | xargs printf '%.1f') MB, slowest ${worst_s} s"
[ $fails -eq 0 ]
