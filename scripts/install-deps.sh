#!/usr/bin/env bash
# Install the OS packages minik8s needs, only those missing.
# Debian/Ubuntu (apt) and CentOS/RHEL/Fedora (dnf). Usage: install-deps.sh [--test]
#   --test  also the tools the test suite uses (shellcheck, vagrant for `vagrant validate`).
set -euo pipefail

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

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
    have systemd-analyze || need+=(systemd)
  fi
  if [ "${#need[@]}" -gt 0 ]; then
    echo "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
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
