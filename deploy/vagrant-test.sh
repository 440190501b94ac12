#!/usr/bin/env bash
# `make vagrant-test`: real VMs under systemd, the end-to-end suite against them, nothing left.
#
#   deploy/vagrant-test.sh [--smoke|--all|--ha] [--keep] [pytest args...]
#
# Phases (each one's time is printed, and all of them at the end):
#   box        `make vagrant-box` (deploy/vagrant/build-box.sh): the Debian 12 box, reused
#              while its recipe is unchanged
#   libvirt    deploy/vagrant/libvirt-netns.sh start: virtlogd and libvirtd inside a network
#              namespace made for the run (no systemd here), or the system's libvirtd
#   boot       `vagrant up --no-provision` of the master (libvirt, KVM where a probe shows a
#              guest boots under it, else TCG)
#   provision  deploy/install.sh as docs/deploy.md tells a user: the master first (it prints
#              the join command) while the nodes boot, then every node with that command;
#              with --ha the other masters boot meanwhile too and join one after the other
#   ready      every node Ready (with --ha: none; the tests wait for every API server)
#   tests      pytest with MINIK8S_E2E_KUBECONFIG: the local cluster's e2e tests, failures
#              injected on the VMs (power-off, a reboot): the scenarios below by default,
#              tests/e2e whole with --all, only the vdata-imp NodePort test with --smoke,
#              tests/e2e/test_vm_masters.py with --ha (three masters, no node: below)
#   destroy    `vagrant destroy -f`, then the daemons and the namespace go; any VM, volume,
#              network, pool, process or namespace left fails the run
#
# Every vagrant, ssh, kubectl and pytest command runs inside the namespace: the VMs'
# networks (192.168.121.0/24 management, 192.168.56.0/24 the cluster's) exist only there.
# --keep leaves the cluster up (then: deploy/vagrant/libvirt-netns.sh run vagrant ssh master;
# `vagrant destroy -f` and `libvirt-netns.sh stop` through the same wrapper remove it).
# MINIK8S_VAGRANT_NODES (default 2) sets how many nodes.
#
# --ha (`make vagrant-ha`): docs/deploy.md's "Three masters" on three VMs
# (MINIK8S_VAGRANT_MASTERS=3) and no node: what it checks (etcd membership, objects
# through every API server, master1 powered off, the `kubernetes` Endpoints) needs no
# kubelet, and under emulation two cores carry three guests already slowly; a node would
# add a fourth guest and its Docker install to every run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$PWD"
python="$REPO/.venv/bin/python"
netns="$REPO/deploy/vagrant/libvirt-netns.sh"
smoke=0
ha=0
keep=0
all=0
pytest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1; shift ;;
    --keep) keep=1; shift ;;
    --all) all=1; shift ;;
    --ha) ha=1; shift ;;
    *) pytest_args+=("$1"); shift ;;
  esac
done

[ "$(id -u)" = 0 ] || { echo "vagrant-test.sh: run as root (libvirt, network namespaces)" >&2; exit 1; }
[ -x "$python" ] || { echo "vagrant-test.sh: no .venv: make test-deps, then make" >&2; exit 1; }
for tool in vagrant virsh libvirtd mmdebstrap qemu-system-x86_64; do
  command -v "$tool" >/dev/null || { echo "vagrant-test.sh: $tool missing: scripts/install-deps.sh --vm" >&2; exit 1; }
done

# Vagrant must not phone home (update checks): nothing is sent off this machine.
export VAGRANT_CHECKPOINT_DISABLE=1 VAGRANT_BOX_UPDATE_CHECK_DISABLE=1
export VAGRANT_DEFAULT_PROVIDER=libvirt
export MINIK8S_VAGRANT_CACHE="${MINIK8S_VAGRANT_CACHE:-/var/cache/minik8s/vagrant}"
if [ "$smoke" = 1 ]; then export MINIK8S_VAGRANT_NODES=1; fi
if [ "$ha" = 1 ]; then export MINIK8S_VAGRANT_MASTERS=3 MINIK8S_VAGRANT_NODES=0; fi
nodes=()
for i in $(seq "${MINIK8S_VAGRANT_NODES:-2}"); do nodes+=("node$i"); done
# The masters after the first (the Vagrantfile's JOINING_MASTERS).
joining=()
for i in $(seq 2 "${MINIK8S_VAGRANT_MASTERS:-1}"); do joining+=("master$i"); done
logs="$REPO/.vagrant/logs"
mkdir -p "$logs"

phases=()
phase_start=0
phase() {
  phase_start=$SECONDS
  echo
  echo "=== $1 ($(date +%T))"
}
phase_end() {
  local took=$((SECONDS - phase_start))
  phases+=("$(printf '%-10s %4d s' "$1" "$took")")
  echo "=== $1: ${took} s"
}
summary() {
  echo
  echo "=== phases (${MINIK8S_VAGRANT_MASTERS:-1} master(s), ${#nodes[@]} node(s), driver $(cat "$MINIK8S_VAGRANT_CACHE/current/driver" 2>/dev/null || echo ?))"
  printf '  %s\n' "${phases[@]}"
}

in_ns() { "$netns" run "$@"; }
vagrant_() { in_ns vagrant "$@"; }

libvirt_started=0
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ "$keep" = 1 ] && [ "$status" = 0 ]; then
    summary
    echo "kept: $netns run vagrant ssh master; $netns run vagrant destroy -f; $netns stop"
    exit 0
  fi
  if [ "$libvirt_started" = 1 ]; then
    phase destroy
    vagrant_ destroy -f >"$logs/destroy.log" 2>&1 || { cat "$logs/destroy.log"; status=1; }
    if ! "$netns" stop; then
      echo "vagrant-test.sh: the run left things behind (listed above)" >&2
      status=1
    fi
    if "$netns" check >/dev/null 2>&1; then :; else
      echo "vagrant-test.sh: still left after clean-up:" >&2
      "$netns" check >&2 || true
      status=1
    fi
    phase_end destroy
  fi
  summary
  [ "$status" = 0 ] && echo "vagrant-test: PASSED" || echo "vagrant-test: FAILED"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

phase box
PYTHON="$python" deploy/vagrant/build-box.sh >/dev/null
# Vagrant's own copy of the box lives beside it, and goes when a new box replaces it.
export VAGRANT_HOME="${VAGRANT_HOME:-$(readlink -f "$MINIK8S_VAGRANT_CACHE/current")/vagrant.d}"
phase_end box

phase libvirt
"$netns" start
libvirt_started=1
phase_end libvirt

# Vagrant's progress bars, one carriage return apart, would fill the log.
quiet_progress() { tr '\r' '\n' | grep --line-buffered -v -e 'Progress: [0-9]*%' -e '^.\[K$' || true; }

phase boot
# Vagrant adds the box from the cache (the Vagrantfile's box_url). The master first, alone:
# it makes the libvirt networks, which machines started at once deadlock over
# (vagrant-libvirt 0.11).
vagrant_ up --no-provision master 2>&1 | quiet_progress
phase_end boot

phase provision
# The nodes boot while the master is provisioned (each VM has a core of its own; serially
# the nodes' boot cost minutes of the run under emulation). The master first: install.sh
# prints the join command (and writes it where the Vagrantfile's trigger picks it up for the
# nodes' provisioner).
# With --ha the other masters boot then too.
others=(${joining[@]+"${joining[@]}"} ${nodes[@]+"${nodes[@]}"})
if [ "${#others[@]}" -gt 0 ]; then
  vagrant_ up --no-provision "${others[@]}" >"$logs/boot-others.log" 2>&1 &
  others_boot=$!
fi
vagrant_ provision master 2>&1 | tee "$logs/provision-master.log"
grep -q "master ready" "$logs/provision-master.log" || { echo "vagrant-test.sh: the master's install.sh failed" >&2; exit 1; }
[ -s .vagrant/minik8s-join ] || { echo "vagrant-test.sh: no join command from the master" >&2; exit 1; }
echo "join command: $(sed -e 's/--token [^ ]*/--token <secret>/' -e 's/--certificate-key [^ ]*/--certificate-key <secret>/' .vagrant/minik8s-join)"
if [ "${#others[@]}" -gt 0 ]; then
  echo "=== master provisioned after $((SECONDS - phase_start)) s; waiting for the boot of ${others[*]}"
  others_booted=0
  wait "$others_boot" && others_booted=1
  quiet_progress <"$logs/boot-others.log"
  [ "$others_booted" = 1 ] || { echo "vagrant-test.sh: ${others[*]} did not boot" >&2; exit 1; }
  echo "=== ${others[*]} booted after $((SECONDS - phase_start)) s"
fi
# One master at a time: `minik8s join --control-plane` adds its etcd member, which counts
# towards the quorum before it runs; a second one added meanwhile could stall etcd.
for m in ${joining[@]+"${joining[@]}"}; do
  vagrant_ provision "$m" 2>&1 | sed -u "s/^/[$m] /" | tee "$logs/provision-$m.log"
  grep -q "master joined" "$logs/provision-$m.log" || { echo "vagrant-test.sh: $m's install.sh --join failed" >&2; exit 1; }
  echo "=== $m joined after $((SECONDS - phase_start)) s"
done
pids=()
for n in ${nodes[@]+"${nodes[@]}"}; do
  vagrant_ provision "$n" >"$logs/provision-$n.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!nodes[@]}"; do
  if ! wait "${pids[$i]}"; then failed=1; fi
  sed "s/^/[${nodes[$i]}] /" "$logs/provision-${nodes[$i]}.log"
done
[ "$failed" = 0 ] || { echo "vagrant-test.sh: a node's install.sh failed" >&2; exit 1; }
phase_end provision

phase ready
master_ip="$(sed -n 's/^MASTER_IP = "\(.*\)"/\1/p' Vagrantfile)"
port="$(sed -n 's/^API_PORT = \([0-9]*\)/\1/p' Vagrantfile)"
kubeconfig="$REPO/.vagrant/kubeconfig"
# The master's admin.conf (kubernetes-admin: CA, certificate and key embedded), as context
# minik8s-vagrant at the master's private address.
(umask 077 && vagrant_ ssh master -c "sudo cat /etc/minik8s/admin.conf" >"$kubeconfig.admin")
"$python" - "$kubeconfig" "https://${master_ip}:${port}" "$kubeconfig.admin" <<'PY'
import sys
from minik8s.client import kubeconfig
admin = kubeconfig.load(sys.argv[3])
kubeconfig.write_context(sys.argv[1], "minik8s-vagrant", sys.argv[2], ca=admin.ca, cert=admin.cert, key=admin.key)
PY
rm -f "$kubeconfig.admin"
echo "kubeconfig: $kubeconfig (context minik8s-vagrant)"
# Plain ssh with Vagrant's own settings: the tests run many commands on the VMs, and a
# `vagrant ssh` costs seconds of Ruby start-up each.
vagrant_ ssh-config master ${joining[@]+"${joining[@]}"} ${nodes[@]+"${nodes[@]}"} >.vagrant/ssh-config
if [ "${#nodes[@]}" -gt 0 ]; then
  node_objs=()
  for n in "${nodes[@]}"; do node_objs+=("node/$n"); done
  for _ in $(seq 300); do
    if in_ns env KUBECONFIG="$kubeconfig" kubectl get "${node_objs[@]}" >/dev/null 2>&1; then break; fi
    sleep 1
  done
  in_ns env KUBECONFIG="$kubeconfig" kubectl wait --for=condition=Ready "${node_objs[@]}" --timeout=300s
  in_ns env KUBECONFIG="$kubeconfig" kubectl get nodes -o wide
fi
phase_end ready

phase tests
# The scenarios of a real deployment: the seed's vdata-imp Deployment and NodePort 30001 on
# every node, logs and exec; pod traffic across nodes; a node powered off and its pods
# replaced; the master rebooted. The whole suite (--all) also runs, but under emulation its
# back-to-back pod churn overloads the nodes' Docker engines (docs/deploy.md).
tests=(tests/e2e/test_vdata_imp.py
       tests/e2e/test_podnetwork_vxlan.py::test_pod_to_pod_across_nodes_vxlan
       tests/e2e/test_cluster_failures.py::test_node_power_off
       tests/e2e/test_master_reboot.py)
if [ "$all" = 1 ]; then tests=(tests/e2e); fi
if [ "$smoke" = 1 ]; then tests=(tests/e2e/test_vdata_imp.py::test_vdata_imp_nodeport_on_every_node); fi
if [ "$ha" = 1 ]; then tests=(tests/e2e/test_vm_masters.py); fi
grace="$(sed -n 's/^NODE_GRACE = \([0-9]*\)/\1/p' Vagrantfile)"
# Under emulation (TCG) a pod starts several times slower than on the local cluster, which
# the suite's waits are sized for: they are stretched (tests/e2e/conftest.py TIMEOUT_SCALE).
# Measured: six pods on two emulated nodes were not all Ready within the local 90 s.
scale=1
if [ "$(cat "$MINIK8S_VAGRANT_CACHE/current/driver" 2>/dev/null)" != kvm ]; then scale=4; fi
# A test that powers a node off waits for it to boot again under emulation: minutes.
in_ns env MINIK8S_E2E_KUBECONFIG="$kubeconfig" MINIK8S_E2E_SSH_CONFIG="$REPO/.vagrant/ssh-config" \
  MINIK8S_E2E_NODE_GRACE="$grace" MINIK8S_E2E_TIMEOUT_SCALE="$scale" MINIK8S_E2E_VM_MASTERS="master${joining[*]+ ${joining[*]}}" \
  "$python" -m pytest -q -ra -p no:cacheprovider --timeout 1800 --durations=0 "${tests[@]}" \
  ${pytest_args[@]+"${pytest_args[@]}"}
phase_end tests
