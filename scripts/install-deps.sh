#!/usr/bin/env bash
# Install the OS packages minik8s needs, only those missing.
# Debian/Ubuntu (apt) and CentOS/RHEL/Fedora (dnf). Usage: install-deps.sh [--test] [--vm]
#   --test  also the tools the test suite uses (shellcheck, vagrant and its libvirt provider
#           for `vagrant validate`).
#   --vm    also what `make vagrant-box` and `make vagrant-test` need (Debian): mmdebstrap,
#           qemu, libvirt, vagrant-libvirt. No service is started: deploy/vagrant/libvirt-netns.sh
#           starts libvirtd where and when it is needed.
set -euo pipefail

want_test=0
want_vm=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --vm) want_test=1; want_vm=1 ;;
    *) echo "usage: $0 [--test] [--vm]" >&2; exit 2 ;;
  esac
done

need=()
have() { command -v "$1" >/dev/null 2>&1; }
# The reference CNI plugins (bridge, host-local, portmap, loopback) the kubelet runs for pods.
have_cni() { [ -x /usr/lib/cni/bridge ] || [ -x /usr/libexec/cni/bridge ] || [ -x /opt/cni/bin/bridge ]; }

if have apt-get; then
  have dockerd || need+=(docker.io)
  have etcd || need+=(etcd-server)
  have etcdctl || need+=(etcd-client)
  have iptables || need+=(iptables)
  have ip || need+=(iproute2)
  have curl || need+=(curl)
  have conntrack || need+=(conntrack)
  have nft || need+=(nftables)
  have_cni || need+=(containernetworking-plugins)
  have gcc || need+=(gcc)
  [ -e /usr/lib/x86_64-linux-gnu/libc.a ] || [ -e /usr/lib/aarch64-linux-gnu/libc.a ] || need+=(libc6-dev)
  dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
  have python3 || need+=(python3)
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
  if [ "$want_test" = 1 ]; then
    have shellcheck || need+=(shellcheck)
    have vagrant || need+=(vagrant)
    dpkg -s vagrant-libvirt >/dev/null 2>&1 || need+=(vagrant-libvirt)
    have systemd-analyze || need+=(systemd)
  fi
  if [ "$want_vm" = 1 ]; then
    have mmdebstrap || need+=(mmdebstrap)
    have qemu-system-x86_64 || need+=(qemu-system-x86)
    have qemu-img || need+=(qemu-utils)
    have mke2fs || need+=(e2fsprogs)
    have libvirtd || need+=(libvirt-daemon-system)
    have virsh || need+=(libvirt-clients)
    have dnsmasq || dpkg -s dnsmasq-base >/dev/null 2>&1 || need+=(dnsmasq-base)
    have rsync || need+=(rsync)
    have ssh || need+=(openssh-client)
    have nsenter || need+=(util-linux)
    have flock || need+=(util-linux)
  fi
  if [ "${#need[@]}" -gt 0 ]; then
    echo "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # Without systemd (these sandboxes) a package's maintainer script must not start its
    # daemon (libvirtd, dnsmasq) here, outside the namespace the VM test makes for it.
    no_start=""
    if [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ] && [ ! -e /usr/sbin/policy-rc.d ]; then
      no_start=/usr/sbin/policy-rc.d
      trap 'rm -f "$no_start"' EXIT
      printf '#!/bin/sh\nexit 101\n' >"$no_start"
      chmod 755 "$no_start"
    fi
    apt-get install -y -q --no-install-recommends "${need[@]}"
  fi
elif have dnf; then
  have iptables || need+=(iptables)
  have ip || need+=(iproute)
  have curl || need+=(curl)
  have conntrack || need+=(conntrack-tools)
  have nft || need+=(nftables)
  have_cni || need+=(containernetworking-plugins)
  have gcc || need+=(gcc)
  [ -e /usr/lib64/libc.a ] || need+=(glibc-static)
  have python3 || need+=(python3)
  if [ "$want_test" = 1 ]; then
    have shellcheck || need+=(ShellCheck)
  fi
  if [ "$want_vm" = 1 ]; then
    echo "--vm: the Vagrant box is built with Debian's mmdebstrap; run make vagrant-test on Debian" >&2
    exit 1
  fi
  if [ "${#need[@]}" -gt 0 ]; then
    echo "installing: ${need[*]}"
    dnf install -y "${need[@]}"
  fi
  if ! have dockerd; then
    dnf install -y dnf-plugins-core
    dnf config-manager --add-repo https://download.docker.com/linux/centos/docker-ce.repo
    dnf install -y docker-ce docker-ce-cli containerd.io
  fi
  if ! have etcd; then
    dnf install -y etcd || {
      echo "etcd is not packaged here; see deploy/install.sh for the release-tarball install" >&2
      exit 1
    }
  fi
  if ! [ -x /bin/busybox ] && ! [ -x /usr/sbin/busybox ]; then
    dnf install -y busybox || echo "warning: no static busybox package; the workload image needs one" >&2
  fi
else
  echo "unsupported OS: need apt-get or dnf" >&2
  exit 1
fi
