#!/usr/bin/env bash
# Reproduces a new user's first steps on a bare Debian 12: a debootstrap
# (minbase) root with only git and make added, a clone of this repository,
# then the README's `make test` and a `make run` whose demo must play in
# Chromium. Needs root and Debian's package mirror; takes a while (it installs
# everything from scratch). Not part of CI.
#   bash .ci/fresh-check.sh [ROOT_DIR]      (default /var/tmp/relais-fresh)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
root=${1:-/var/tmp/relais-fresh}
mirror=${FRESH_MIRROR:-http://deb.debian.org/debian}

if [ "$(id -u)" -ne 0 ]; then echo "fresh-check: run as root (debootstrap, chroot)" >&2; exit 1; fi
command -v debootstrap >/dev/null || apt-get install -y -q --no-install-recommends debootstrap

mounts=()
cleanup() {
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
bind() { mkdir -p "$root$2"; mount "$@" "$root$2" 2>/dev/null || mount --bind "$1" "$root$2"; mounts+=("$root$2"); }

if [ ! -x "$root/usr/bin/apt-get" ]; then
  echo "fresh-check: debootstrap bookworm into $root"
  debootstrap --variant=minbase bookworm "$root" "$mirror"
fi
# The security suite too, as a real Debian 12 has it.
echo "deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main" > "$root/etc/apt/sources.list"
# The machine's extra CA certificates, so npm can reach its registry from inside.
mkdir -p "$root/usr/local/share/ca-certificates"
cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
cp /etc/resolv.conf "$root/etc/resolv.conf"

mount -t proc proc "$root/proc"; mounts+=("$root/proc")
mount -t sysfs sys "$root/sys"; mounts+=("$root/sys")
mount --bind /dev "$root/dev"; mounts+=("$root/dev")
mount --bind /dev/pts "$root/dev/pts"; mounts+=("$root/dev/pts")
mount -t tmpfs tmpfs "$root/dev/shm"; mounts+=("$root/dev/shm")

in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt /bin/bash -c "$1"
}

# Only git and make (and the CA store they and npm use), as the issue's new user has.
in_root "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends git make ca-certificates && update-ca-certificates"
rm -rf "$root/root/relais"
git clone -q "$repo" "$root/root/relais"

echo "fresh-check: make test"
in_root "cd /root/relais && make test"

echo "fresh-check: make run (the demo must play in Chromium)"
in_root "cd /root/relais && (make run > /tmp/run.log 2>&1 &) && \
  for i in \$(seq 120); do curl -sf http://127.0.0.1:8080/readyz >/dev/null && break; sleep 1; done && \
  RELAIS_SOURCE_DIR=/root/relais node tests/webrtc/watch_page.mjs http://127.0.0.1:8080/watch/demo 30 30000; status=\$?; \
  pkill -INT -f relais-server; sleep 2; exit \$status" | tee /tmp/fresh-check-watch.json
grep -q '"state":"playing"' /tmp/fresh-check-watch.json
echo "fresh-check: passed (make test and make run on a bare Debian 12)"
