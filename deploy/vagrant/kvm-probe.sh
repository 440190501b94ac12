#!/usr/bin/env bash
# Which libvirt driver the VMs of `make vagrant-test` use: `kvm` when a guest really boots
# under KVM here, else `qemu` (plain emulation, TCG).
#
#   deploy/vagrant/kvm-probe.sh KERNEL INITRD    prints kvm or qemu
#
# /dev/kvm opening is not enough: on some hosts (nested virtualization without support)
# a KVM guest hangs right after the kernel is decompressed. So this boots the box's own
# kernel under KVM, with no disk and no network, and waits for the kernel to reach its
# init (it then panics for want of a root file system, and qemu exits: -no-reboot).
set -euo pipefail

kernel="${1:?kernel}"
initrd="${2:?initrd}"
timeout_s="${MINIK8S_KVM_PROBE_TIMEOUT:-40}"

if [ ! -c /dev/kvm ] || ! [ -r /dev/kvm ] || ! command -v qemu-system-x86_64 >/dev/null; then
  echo qemu
  exit 0
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# rdinit names no file, so the kernel looks for a root file system, finds none and panics.
timeout --kill-after=5 "$timeout_s" qemu-system-x86_64 -accel kvm -cpu host -m 256 -smp 1 \
  -display none -monitor none -nic none -no-reboot -serial "file:$log" \
  -kernel "$kernel" -initrd "$initrd" \
  -append "console=ttyS0 panic=-1 rdinit=/minik8s-kvm-probe root=/dev/minik8s-none rootwait=0" \
  >/dev/null 2>&1 || true
if grep -q -E "Kernel panic|Run /|Freeing unused kernel" "$log"; then
  echo kvm
else
  echo qemu
fi
