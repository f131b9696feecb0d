#!/usr/bin/env bash
# System packages that vigifeu's demo and tests use (Debian/Ubuntu, as root). Idempotent.
set -euo pipefail
packages=(mosquitto mosquitto-clients ffmpeg python3-gi gir1.2-gstreamer-1.0
  gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly
  gstreamer1.0-libav gstreamer1.0-tools)
if [ "${1:-}" = "--with-test-services" ]; then
  packages+=(postgresql chromium fonts-dejavu-core)
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${missing[*]}" >&2
  echo "run: sudo $0 ${1:-}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
