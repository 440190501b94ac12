#!/usr/bin/env bash
# `make vagrant-test`: bring up the Vagrant cluster (one master, two nodes; see the
# Vagrantfile) and run the end-to-end suite against it, as against the local cluster.
#   deploy/vagrant-test.sh [pytest args...]
# The VMs stay up afterwards; `vagrant destroy -f` removes them.
# VAGRANT_DEFAULT_PROVIDER picks the provider (virtualbox, libvirt).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
python=".venv/bin/python"
[ -x "$python" ] || { echo "no .venv: run make test-deps and make first" >&2; exit 1; }
command -v vagrant >/dev/null || { echo "vagrant is not installed (make test-deps)" >&2; exit 1; }

vagrant up master
vagrant up node1 node2

master_ip="$(sed -n 's/^MASTER_IP = "\(.*\)"/\1/p' Vagrantfile)"
port="$(sed -n 's/^API_PORT = \([0-9]*\)/\1/p' Vagrantfile)"
kubeconfig=".vagrant/kubeconfig"
# The master's admin.conf (kubernetes-admin: CA, certificate and key embedded), as context
# minik8s-vagrant at the master's private address.
(umask 077 && vagrant ssh master -c "sudo cat /etc/minik8s/admin.conf" >"$kubeconfig.admin")
"$python" - "$kubeconfig" "https://${master_ip}:${port}" "$kubeconfig.admin" <<'PY'
import sys
from minik8s.client import kubeconfig
admin = kubeconfig.load(sys.argv[3])
kubeconfig.write_context(sys.argv[1], "minik8s-vagrant", sys.argv[2], ca=admin.ca, cert=admin.cert, key=admin.key)
PY
rm -f "$kubeconfig.admin"
echo "kubeconfig: $kubeconfig (context minik8s-vagrant)"

for _ in $(seq 120); do
  if KUBECONFIG="$kubeconfig" kubectl get nodes node1 node2 >/dev/null 2>&1; then
    break
  fi
  sleep 1
done
KUBECONFIG="$kubeconfig" kubectl wait --for=condition=Ready node/node1 node/node2 --timeout=180s

MINIK8S_E2E_KUBECONFIG="$PWD/$kubeconfig" "$python" -m pytest -q -ra tests/e2e "$@"
