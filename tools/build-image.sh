#!/usr/bin/env bash
# Build a systemd-ready Debian test image with debootstrap and import it into podman.
# Usage: tools/build-image.sh debian12|debian13
# The image is rebuilt only when missing or when its recipe (this script, the CA files,
# the mirror, the project's SSH key) changed; the recipe's hash is stored in the image's "recipe" label.
# Ansible reaches test containers over SSH as root with the project's key (made here once, under
# ~/.cache/djangoops/ssh/), like a production host; see tools/ssh-proxy.
set -euo pipefail

name=${1:?usage: $0 debian12|debian13}
case "$name" in
  debian12) suite=bookworm ;;
  debian13) suite=trixie ;;
  *) echo "unknown image $name (debian12|debian13)" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")/.." && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/.config/containers.conf}"
tag="localhost/djangoops-$name:latest"
packages=systemd,systemd-sysv,python3,sudo,ca-certificates,iproute2,openssh-server

# The Debian mirror this machine already uses: first non-security "debian" URI in its apt sources.
mirror=$(
  { grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{for (i = 2; i <= NF; i++) print $i}'
    grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print ($2 ~ /^\[/) ? $3 : $2}'
  } | grep -E '/debian/?$' | grep -v security | head -n 1 || true
)
[ -n "$mirror" ] || { echo "no Debian mirror found in /etc/apt/sources.list*" >&2; exit 1; }

# The key Ansible logs in with: one per control machine, never committed.
key="${DJANGOOPS_CACHE:-$HOME/.cache/djangoops}/ssh/id_ed25519"
if [ ! -f "$key" ]; then
  mkdir -p -m 0700 "$(dirname "$key")"
  ssh-keygen -q -t ed25519 -N '' -C djangoops-test -f "$key"
fi

shopt -s nullglob
cas=(/usr/local/share/ca-certificates/*.crt)
recipe=$(cat "$0" "${cas[@]}" "$key.pub" <(echo "$mirror $suite $packages") | sha256sum | cut -c1-16)

current=$(podman image inspect --format '{{ index .Labels "recipe" }}' "$tag" 2>/dev/null || true)
if [ "$current" = "$recipe" ]; then
  echo "$tag is up to date (recipe $recipe)"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
echo "building $tag from $suite ($mirror)"
debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }

# Test images only: trust the control machine's extra CAs so pip inside containers works behind its TLS proxy.
for ca in "${cas[@]}"; do cp "$ca" "$rootfs/usr/local/share/ca-certificates/"; done
chroot "$rootfs" update-ca-certificates >/dev/null

# SSH: root logs in with the project's key only (sshd's default for root: prohibit-password).
install -d -m 0700 "$rootfs/root/.ssh"
install -m 0600 "$key.pub" "$rootfs/root/.ssh/authorized_keys"
printf 'PasswordAuthentication no\nUseDNS no\n' >"$rootfs/etc/ssh/sshd_config.d/djangoops-test.conf"

# Modules cannot be loaded inside a container; the unit fails and marks the system degraded on Debian 13.
ln -sf /dev/null "$rootfs/etc/systemd/system/systemd-modules-load.service"
# No getty on a container console.
ln -sf /dev/null "$rootfs/etc/systemd/system/getty@tty1.service"
: >"$rootfs/etc/machine-id"
chroot "$rootfs" apt-get clean

tar -C "$rootfs" -c . | podman import \
  --change 'CMD ["/sbin/init"]' \
  --change "LABEL recipe=$recipe" \
  - "$tag" >/dev/null
echo "built $tag (recipe $recipe)"
