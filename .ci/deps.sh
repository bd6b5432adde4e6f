#!/usr/bin/env bash
# Installs everything Relais needs on Debian 12: build tools and libraries,
# GStreamer plugins, the real servers the tests start (redis-server), the
# browser for viewer tests, and the npm test tools. Idempotent: does nothing
# when all is present.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  meson ninja-build pkg-config g++ make
  libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libgstreamer-plugins-bad1.0-dev libgstrtspserver-1.0-dev libnice-dev
  libsoup-3.0-dev libhiredis-dev libjson-glib-dev
  libgnutls28-dev
  libgtest-dev libgmock-dev
  libpango1.0-dev libcairo2-dev libgdk-pixbuf-2.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-nice
  redis-server redis-tools coturn curl fonts-dejavu-core iproute2 nftables
  openssl
  gcovr clang-format clang-tidy cppcheck valgrind clang libclang-rt-14-dev
  nodejs npm chromium
)

# NodeSource's nodejs bundles npm and conflicts with Debian's npm package:
# when an npm command is already there, do not ask apt for one.
if command -v npm >/dev/null 2>&1; then
  kept=()
  for p in "${packages[@]}"; do [ "$p" = npm ] || kept+=("$p"); done
  packages=("${kept[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps: run 'make deps' as root (apt-get needs it)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The Debian redis-server package starts a system instance on 6379 where
# systemd runs; the tests start their own on free ports, so it is not needed.

if [ ! -f tests/node/node_modules/.deps-stamp ] ||
   [ tests/node/package.json -nt tests/node/node_modules/.deps-stamp ]; then
  echo "deps: installing npm test tools (tests/node)"
  # --engine-strict: npm refuses a package whose engines this Node does not meet.
  (cd tests/node && npm install --no-audit --no-fund --loglevel=error --engine-strict)
  touch tests/node/node_modules/.deps-stamp
fi
# Checked on every run, so a Node changed after the install is caught too.
node tests/node/check-engines.mjs
