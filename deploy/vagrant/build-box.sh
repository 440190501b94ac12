#!/usr/bin/env bash
# `make vagrant-box`: a Vagrant box for the libvirt provider, built offline here from
# Debian's packages, so that `make vagrant-test` needs no box registry.
#
#   deploy/vagrant/build-box.sh            build (or reuse) the box; print its directory
#   deploy/vagrant/build-box.sh --key      print the recipe's key only
#
# The box is Debian 12 (bookworm) made by mmdebstrap: systemd, sshd, systemd-networkd
# (DHCP on eth0), a `vagrant` user with Vagrant's insecure key and passwordless sudo, and
# every package a minik8s master or node needs already installed (Docker, etcd, iptables,
# nftables, conntrack, busybox-static, gcc and libc6-dev for the pause image, Python with
# venv). Docker, containerd and etcd are installed but not enabled: deploy/install.sh
# enables what each role runs, as on any fresh machine. minik8s's Python dependencies are
# built into wheels on this host and put in /var/cache/minik8s/wheels, which the box's
# /etc/pip.conf names as its only package source: the VMs reach no network but this host's
# (deploy/vagrant-test.sh), so install.sh's apt and pip steps find everything inside.
#
# The kernel boots directly (libvirt's <kernel>/<initrd>): its files sit beside the box.
# Output, under $MINIK8S_VAGRANT_CACHE (default /var/cache/minik8s/vagrant):
#   <key>/minik8s-debian12.box   the box (metadata.json, box.img qcow2, Vagrantfile)
#   <key>/vmlinuz, <key>/initrd.img
#   <key>/driver                 kvm or qemu: deploy/vagrant/kvm-probe.sh's verdict on this host
#   current -> <key>
# <key> is a hash of this recipe and of minik8s's dependency list: a changed recipe builds
# a new box, an unchanged one is reused. Older boxes are removed.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${MINIK8S_VAGRANT_CACHE:-/var/cache/minik8s/vagrant}"
PYTHON="${PYTHON:-python3}"
SUITE="bookworm"
DISK_GB=8
# Vagrant's insecure public key, from the vagrant package (Vagrant swaps it for a key of
# its own at the first `vagrant up`).
INSECURE_KEY="$(dpkg -L vagrant 2>/dev/null | grep -m1 '/keys/vagrant\.pub$' || true)"

# Everything a master or a node installs with apt (deploy/install.sh), plus what a Vagrant
# guest needs (sudo, rsync for the synced folder) and what a machine boots with.
PACKAGES=(
  systemd systemd-sysv udev dbus kmod procps iproute2 iputils-ping less
  linux-image-cloud-amd64 initramfs-tools
  openssh-server sudo rsync ca-certificates curl
  python3 python3-venv python3-pip
  docker.io etcd-server etcd-client
  iptables nftables conntrack containernetworking-plugins
  busybox-static gcc libc6-dev apparmor
)

die() { echo "build-box.sh: $*" >&2; exit 1; }
log() { echo "build-box.sh: $*" >&2; }

deps() {
  # minik8s's runtime dependencies, from pyproject.toml.
  "$PYTHON" - "$REPO/pyproject.toml" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    project = tomllib.load(f)
print("\n".join(project["project"]["dependencies"]))
print("\n".join(project["build-system"]["requires"]))
PY
}

key() {
  { cat "${BASH_SOURCE[0]}"; deps; cat "$INSECURE_KEY"; } | sha256sum | cut -c1-16
}

if [ "${1:-}" = "--key" ]; then
  key
  exit 0
fi
[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap, mke2fs -d of a root file system)"
for tool in mmdebstrap mke2fs qemu-img "$PYTHON"; do
  command -v "$tool" >/dev/null || die "$tool is missing: scripts/install-deps.sh --vm"
done
if [ -z "$INSECURE_KEY" ] || [ ! -r "$INSECURE_KEY" ]; then
  die "Vagrant's insecure key not found (is the vagrant package installed?)"
fi

k="$(key)"
out="$CACHE/$k"
# Whether the VMs can use KVM here, found by booting the box's kernel (once per box).
probe_driver() {
  [ -s "$1/driver" ] || "$REPO/deploy/vagrant/kvm-probe.sh" "$1/vmlinuz" "$1/initrd.img" >"$1/driver"
  log "libvirt driver: $(cat "$1/driver")"
}

if [ -s "$out/minik8s-debian12.box" ] && [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ]; then
  ln -sfn "$k" "$CACHE/current"
  probe_driver "$out"
  log "box $k is up to date"
  echo "$out"
  exit 0
fi

work="$(mktemp -d /var/tmp/minik8s-box.XXXXXX)"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
root="$work/root"
mkdir -p "$work/box" "$root"

log "building minik8s's dependencies into wheels (on this host, from PyPI)"
wheels="$work/wheels"
mapfile -t requirements < <(deps)
# (Without the notes pip prints for each package about this host's extra local indexes.)
"$PYTHON" -m pip wheel -q --wheel-dir "$wheels" "${requirements[@]}" pip setuptools wheel 2>&1 \
  | { grep -v 'is ignored: it is neither a file nor a directory' || true; } >&2

# The host's apt sources (the mirrors this machine is configured with); mmdebstrap's
# defaults where there are none.
mirrors=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
  if [ -f "$f" ] && grep -q '^[^#]' "$f"; then mirrors+=("$f"); fi
done

log "mmdebstrap $SUITE (${#PACKAGES[@]} packages)"
include="$(IFS=,; echo "${PACKAGES[*]}")"
mmdebstrap --variant=minbase --include="$include" \
  "$SUITE" "$root" "${mirrors[@]}" >&2

log "configuring the guest"
mkdir -p "$root/var/cache/minik8s"
cp -r "$wheels" "$root/var/cache/minik8s/wheels"
cat >"$root/etc/pip.conf" <<'CONF'
# The VMs of `make vagrant-test` reach no package index: minik8s's dependencies were built
# into wheels when the box was (deploy/vagrant/build-box.sh).
[global]
no-index = true
find-links = /var/cache/minik8s/wheels
CONF
# minik8s's dependencies already installed where install.sh makes its venv, as a machine
# image with them baked in would have them: installing and byte-compiling them inside an
# emulated guest (TCG) took most of a provisioning run, here it takes seconds. install.sh
# runs unchanged: its `python3 -m venv` keeps this venv, and its `pip install` finds every
# dependency satisfied and installs only minik8s from the checkout.
chroot "$root" python3 -m venv /opt/minik8s/venv
chroot "$root" /opt/minik8s/venv/bin/pip install -q --no-index --find-links /var/cache/minik8s/wheels \
  "${requirements[@]}" pip setuptools wheel >&2
echo minik8s >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tminik8s\n' >"$root/etc/hosts"
echo 'LABEL=root / ext4 errors=remount-ro 0 1' >"$root/etc/fstab"
# Every VM makes its own machine id (DHCP client id, journal) and its own host keys.
: >"$root/etc/machine-id"
rm -f "$root"/etc/ssh/ssh_host_*
cat >"$root/etc/systemd/system/ssh-host-keys.service" <<'UNIT'
[Unit]
Description=Generate this machine's SSH host keys
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
UNIT
cat >"$root/etc/systemd/network/99-eth0.network" <<'NET'
# The management network (Vagrant reaches the guest over it); Vagrant writes the
# private network's file itself (50-vagrant-eth1.network).
[Match]
Name=eth0

[Network]
DHCP=ipv4
NET
printf 'UseDNS no\n' >"$root/etc/ssh/sshd_config.d/vagrant.conf"
chroot "$root" useradd --create-home --shell /bin/bash vagrant
install -d -m 0700 -o 1000 -g 1000 "$root/home/vagrant/.ssh"
install -m 0600 -o 1000 -g 1000 "$INSECURE_KEY" "$root/home/vagrant/.ssh/authorized_keys"
[ "$(stat -c %u "$root/home/vagrant")" = 1000 ] || die "vagrant is not uid 1000 in the guest"
echo 'vagrant ALL=(ALL) NOPASSWD:ALL' >"$root/etc/sudoers.d/vagrant"
chmod 0440 "$root/etc/sudoers.d/vagrant"
chroot "$root" systemctl enable systemd-networkd.service ssh.service ssh-host-keys.service >&2
# Installed, not enabled: install.sh enables what the machine's role runs.
chroot "$root" systemctl disable docker.service docker.socket containerd.service etcd.service >&2
chroot "$root" apt-get clean

log "making the disk (${DISK_GB} GiB ext4, qcow2)"
cp "$root/vmlinuz" "$work/vmlinuz" 2>/dev/null || cp "$root"/boot/vmlinuz-* "$work/vmlinuz"
cp "$root/initrd.img" "$work/initrd.img" 2>/dev/null || cp "$root"/boot/initrd.img-* "$work/initrd.img"
mke2fs -q -t ext4 -L root -d "$root" "$work/disk.raw" "${DISK_GB}G"
qemu-img convert -O qcow2 "$work/disk.raw" "$work/box/box.img"
rm -f "$work/disk.raw"
cat >"$work/box/metadata.json" <<JSON
{"provider": "libvirt", "format": "qcow2", "virtual_size": ${DISK_GB}}
JSON
cat >"$work/box/Vagrantfile" <<'VF'
# The kernel boots directly: its files sit beside the box in the cache
# (deploy/vagrant/build-box.sh); the project's Vagrantfile points libvirt at them.
Vagrant.configure("2") do |config|
  config.ssh.shell = "bash"
end
VF
tar -C "$work/box" -cf "$work/minik8s-debian12.box" metadata.json Vagrantfile box.img

mkdir -p "$CACHE"
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
mv "$work/minik8s-debian12.box" "$work/vmlinuz" "$work/initrd.img" "$out.tmp/"
chmod 0644 "$out.tmp"/*
rm -rf "$out"
mv "$out.tmp" "$out"
chmod 0755 "$CACHE" "$out"
for old in "$CACHE"/*/; do
  old="${old%/}"
  if [ ! -L "$old" ] && [ "$(basename "$old")" != "$k" ]; then rm -rf "$old"; fi
done
ln -sfn "$k" "$CACHE/current"
probe_driver "$out"
log "box $k: $(du -sh "$out" | cut -f1)"
echo "$out"
