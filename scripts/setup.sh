#!/usr/bin/env bash
# Installs the system libraries latent builds against, when they are missing (Debian/Ubuntu).
set -euo pipefail
need=()
for p in libpng-dev libopenblas-dev pkg-config; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
# libpng below the distribution's current security update (Debian 12 ships 1.6.39-2+deb12u4;
# u5/u6 fix two CVEs): upgrade it too.
if command -v apt-get >/dev/null 2>&1 && dpkg -s libpng16-16 >/dev/null 2>&1; then
  have=$(dpkg-query -W -f='${Version}' libpng16-16)
  if dpkg --compare-versions "$have" lt "1.6.39-2+deb12u6" && [[ "$have" == 1.6.39-2* ]]; then need+=(libpng16-16 libpng-dev); fi
fi
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing ${need[*]}" >&2
  $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
  $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null 2>&1 || [ -x /opt/swift/usr/bin/swift ] || {
  echo "setup: the Swift toolchain (swift) is not on PATH" >&2; exit 1; }
