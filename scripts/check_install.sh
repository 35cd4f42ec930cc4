#!/usr/bin/env bash
# Checks `make install`: installs into a temporary prefix, moves the tree elsewhere (as a package
# or a container image would), and runs the installed binary from outside the repository: the
# built-in models must come from the installed tree, not the source tree or the build folder.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make install PREFIX="$tmp/prefix" >/dev/null
mv "$tmp/prefix" "$tmp/moved"
bin="$tmp/moved/bin/latent"
cd "$tmp"
for f in share/man/man1/latent.1 share/bash-completion/completions/latent share/zsh/site-functions/_latent share/fish/vendor_completions.d/latent.fish; do
  [ -s "moved/$f" ] || { echo "check_install: $f missing" >&2; exit 1; }
done
"$bin" models --json | grep -q "\"path\":\"$tmp/moved/share/latent/models/photo.safetensors\"" \
  || { echo "check_install: photo model not found in the installed tree" >&2; "$bin" models --json >&2; exit 1; }
cp "$repo/samples/gradient-rgb.png" in.png
"$bin" denoise in.png -o out.png --quiet
"$bin" info out.png | grep -q "latent:model: photo" || { echo "check_install: denoise with the installed model failed" >&2; exit 1; }
echo "check_install: ok ($bin; models from the installed tree)"
