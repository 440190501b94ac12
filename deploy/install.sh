#!/usr/bin/env bash
# Install minik8s as systemd services on a master or a node.
# CentOS 8 / Stream (dnf) and Debian / Ubuntu (apt). Run as root from a minik8s checkout.
#
#   deploy/install.sh --role master --master-ip 192.168.56.10 [--token ID.SECRET] [--join-file F]
#       packages (etcd, iptables, Python), minik8s in /opt/minik8s/venv, /etc/minik8s/*.yaml
#       and the cluster PKI (/etc/minik8s/pki, a kubeconfig per component) via `minik8s init`,
#       the master's units enabled and started, root's kubeconfig (admin.conf), then
#       `minik8s token create`, which prints the exact join command for the nodes.
#   deploy/install.sh --role master --master-ip 192.168.56.10 --upload-certs [--join-file F]
#       the same, and `minik8s certs upload` first: the shared PKI, encrypted under a printed
#       certificate key, on the API server for 2 hours; the output (and F) then carries the
#       command that adds another master.
#   deploy/install.sh --role master --join --master-ip 192.168.56.10 --token ID.SECRET
#           --ca-cert-hash sha256:HEX --certificate-key KEY [--advertise-address 192.168.56.11]
#       another master for the cluster of the master at --master-ip (kubeadm's join
#       --control-plane): packages, minik8s, then `minik8s join --control-plane`: it checks
#       that master's CA against the hash, downloads and decrypts the shared PKI, adds an etcd
#       member and writes /etc/minik8s/*; then the same units as the first master.
#   deploy/install.sh --role node --master-ip 192.168.56.10 --token ID.SECRET --ca-cert-hash sha256:HEX
#       packages (Docker, iptables, Python, what the image build needs), minik8s, the
#       project's images, then `minik8s join`: it checks the master's CA against the hash,
#       gets the node's own certificates and writes /etc/minik8s/*; then the node's units.
#
# Options:
#   --role master|node     what this machine is (required)
#   --master-ip IP         the master's address on the cluster network (required);
#                          with --join: the address of a master that runs already
#   --port PORT            API server port (default 6443)
#   --api-timeout SECONDS  master: how long to wait for its API server to answer (default 120;
#                          an emulated VM on a busy host may need several minutes)
#   --token ID.SECRET      master: create this bootstrap token (never expires);
#                          node, master --join: join with it
#   --ca-cert-hash HASH    node, master --join: sha256:<hex> of the master's CA (printed with
#                          the join command)
#   --upload-certs         master: upload the shared PKI for `--join` masters (2 hours)
#   --certificate-key KEY  master: encrypt the upload with this key (64 hex digits; implies
#                          --upload-certs); master --join: decrypt it with this key
#   --join                 master: join the master at --master-ip instead of starting a cluster
#   --advertise-address IP master --join: this master's address (default: the route to --master-ip's)
#   --ca-cert FILE, --ca-key FILE
#                          master: use this CA (PEM) instead of making one, so the CA hash
#                          can be known before the master exists (the Vagrantfile does this)
#   --join-file FILE       master: also write the join command there (with --upload-certs
#                          the control-plane one, holding the certificate key: share the file
#                          with the machines that join only);
#                          node, master --join: read the token, the CA hash (and the
#                          certificate key) from it when not given
#   --node-ip IP           node: address to advertise (default: the route to the master's)
#   --node-name NAME       node: name (default: the hostname); master --join: its etcd
#                          member's name (default: the hostname)
#   --images TAR           node: `docker load` the project's images from TAR instead of building them
#   --set C.OPT=VALUE      passed to `minik8s init` / `minik8s join` (repeatable)
#   --os apt|dnf           package manager to assume (default: detected)
#   --dry-run              print every step instead of doing it
set -euo pipefail
# Whatever the caller's umask: the venv must be readable by every user, and the pause
# binary built for the image must stay executable for its non-root user (USER 65535).
umask 022

ETCD_VERSION="v3.4.27"   # pinned: the release tarball installed where no package exists (dnf)
PREFIX="/opt/minik8s"
CONFIG_DIR="/etc/minik8s"
UNIT_DIR="/etc/systemd/system"
SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MINIK8S="$PREFIX/venv/bin/minik8s"

role=""
master_ip=""
port="6443"
api_timeout="120"
token=""
ca_cert_hash=""
ca_cert=""
ca_key=""
join_file=""
node_ip=""
node_name=""
images=""
pkg=""
join=0
upload_certs=0
certificate_key=""
advertise_address=""
dry_run=0
sets=()

die() { echo "install.sh: $*" >&2; exit 1; }

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --role) role="${2:-}"; shift 2 ;;
    --master-ip) master_ip="${2:-}"; shift 2 ;;
    --port) port="${2:-}"; shift 2 ;;
    --api-timeout) api_timeout="${2:-}"; shift 2 ;;
    --token) token="${2:-}"; shift 2 ;;
    --ca-cert-hash) ca_cert_hash="${2:-}"; shift 2 ;;
    --ca-cert) ca_cert="${2:-}"; shift 2 ;;
    --ca-key) ca_key="${2:-}"; shift 2 ;;
    --join-file) join_file="${2:-}"; shift 2 ;;
    --node-ip) node_ip="${2:-}"; shift 2 ;;
    --node-name) node_name="${2:-}"; shift 2 ;;
    --images) images="${2:-}"; shift 2 ;;
    --join) join=1; shift ;;
    --upload-certs) upload_certs=1; shift ;;
    --certificate-key) certificate_key="${2:-}"; shift 2 ;;
    --advertise-address) advertise_address="${2:-}"; shift 2 ;;
    --set) sets+=(--set "${2:-}"); shift 2 ;;
    --os) pkg="${2:-}"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

case "$role" in
  master|node) ;;
  *) die "--role master|node is required" ;;
esac
[ -n "$master_ip" ] || die "--master-ip is required"
[[ "$api_timeout" =~ ^[1-9][0-9]*$ ]] || die "--api-timeout takes a number of seconds, not ${api_timeout@Q}"
if [ "$role" = node ] && [ "$join" = 1 ]; then
  die "--join is for --role master (a node always joins)"
fi
if [ "$join" = 1 ] && [ "$upload_certs" = 1 ]; then
  die "--upload-certs is for the first master (a joining master downloads them)"
fi
if [ "$join" = 0 ] && [ -n "$certificate_key" ]; then
  upload_certs=1
fi
if [ "$dry_run" = 0 ] && [ "$(id -u)" != 0 ]; then
  die "run as root (or with --dry-run to see the steps)"
fi

# --- helpers ------------------------------------------------------------------------------

step() { echo "==> $*"; }

# Run a command, or with --dry-run print it (shell-quoted, so it can be pasted).
run() {
  if [ "$dry_run" = 1 ]; then
    printf '+'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

# Write stdin to a file with a mode, or with --dry-run show what would be written.
write_file() {
  local path="$1" mode="$2" tmp
  if [ "$dry_run" = 1 ]; then
    echo "+ write $path (mode $mode):"
    sed 's/^/    /'
    return
  fi
  tmp="$(mktemp)"
  cat >"$tmp"
  install -D -m "$mode" "$tmp" "$path"
  rm -f "$tmp"
}

have() { command -v "$1" >/dev/null 2>&1; }

detect_pkg() {
  if [ -n "$pkg" ]; then
    case "$pkg" in apt|dnf) return ;; *) die "--os must be apt or dnf" ;; esac
  fi
  if have apt-get; then pkg=apt
  elif have dnf; then pkg=dnf
  else die "unsupported OS: need apt-get (Debian/Ubuntu) or dnf (CentOS 8/Stream)"
  fi
}

arch() {
  case "$(uname -m)" in
    x86_64) echo amd64 ;;
    aarch64) echo arm64 ;;
    *) die "unsupported architecture $(uname -m)" ;;
  esac
}

# minik8s needs Python >= 3.11: the first interpreter that is new enough.
python_bin() {
  local candidate
  for candidate in python3.13 python3.12 python3.11 python3; do
    if have "$candidate" && "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return
    fi
  done
  echo python3.11
}

# --- packages -------------------------------------------------------------------------------

# Whether dpkg has every package named installed.
dpkg_installed() {
  local p
  for p in "$@"; do
    [ "$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || return 1
  done
}

install_packages_apt() {
  local want=(curl ca-certificates iptables iproute2 python3 python3-venv python3-pip)
  if [ "$role" = master ]; then
    want+=(etcd-server etcd-client)
  else
    # apparmor: Docker's package only recommends it, but on a kernel with AppArmor on
    # (Debian's, Ubuntu's) dockerd cannot start a container without apparmor_parser.
    # containernetworking-plugins: the CNI plugins the kubelet networks pods with.
    want+=(docker.io apparmor gcc libc6-dev busybox-static containernetworking-plugins nftables)
  fi
  # Only when something is missing: a machine prepared with the packages (an image, an
  # offline site, the Vagrant box) needs no package mirror.
  if [ "$dry_run" = 0 ] && dpkg_installed "${want[@]}"; then
    echo "every package is installed already: ${want[*]}"
  else
    run env DEBIAN_FRONTEND=noninteractive apt-get update -q
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${want[@]}"
  fi
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    # Ubuntu 22.04 ships 3.10 as python3; 3.11 is a separate package there.
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3.11 python3.11-venv
  fi
  if [ "$role" = master ]; then
    # The unit runs /usr/local/bin/etcd on every distribution; Debian's package puts it in /usr/bin.
    run ln -sf /usr/bin/etcd /usr/local/bin/etcd
  fi
}

install_packages_dnf() {
  local want=(curl tar iptables iproute python3.11 python3.11-pip dnf-plugins-core)
  if [ "$role" = node ]; then
    # containernetworking-plugins: the CNI plugins the kubelet networks pods with.
    want+=(gcc glibc-static containernetworking-plugins nftables)
  fi
  run dnf install -y "${want[@]}"
  if [ "$role" = master ]; then
    install_etcd_release
    return
  fi
  # Docker CE from Docker's repository (CentOS ships podman instead).
  run dnf config-manager --add-repo https://download.docker.com/linux/centos/docker-ce.repo
  run dnf install -y --allowerasing docker-ce docker-ce-cli containerd.io
  if ! have busybox; then
    # A static busybox for the project's images (EPEL has it).
    run dnf install -y epel-release
    run dnf install -y busybox
  fi
}

install_etcd_release() {
  local a tarball dir
  a="$(arch)"
  dir="etcd-${ETCD_VERSION}-linux-${a}"
  tarball="/tmp/${dir}.tar.gz"
  if [ "$dry_run" = 0 ] && have /usr/local/bin/etcd && /usr/local/bin/etcd --version | grep -q "${ETCD_VERSION#v}"; then
    return
  fi
  run curl -fsSL -o "$tarball" "https://github.com/etcd-io/etcd/releases/download/${ETCD_VERSION}/${dir}.tar.gz"
  run tar -xzf "$tarball" -C /tmp
  run install -m 0755 "/tmp/${dir}/etcd" "/tmp/${dir}/etcdctl" /usr/local/bin/
  run rm -rf "$tarball" "/tmp/${dir}"
}

open_firewall() {
  # CentOS enables firewalld: open the API server (master) or the kubelet (node) port.
  if have firewall-cmd && firewall-cmd --state >/dev/null 2>&1; then
    if [ "$role" = master ]; then
      run firewall-cmd --permanent --add-port="${port}/tcp"
      run firewall-cmd --permanent --add-port=53/udp --add-port=53/tcp
      # etcd's TLS client and peer ports, for the masters that join (etcd CA certificates only).
      run firewall-cmd --permanent --add-port=2379-2380/tcp
    else
      # kubelet, NodePorts, VXLAN between nodes.
      run firewall-cmd --permanent --add-port=10250/tcp --add-port=30000-32767/tcp --add-port=8472/udp
    fi
    run firewall-cmd --reload
  fi
}

# --- minik8s --------------------------------------------------------------------------------

install_minik8s() {
  local py
  py="$(python_bin)"
  run "$py" -m venv "$PREFIX/venv"
  run "$PREFIX/venv/bin/pip" install -q --upgrade pip
  # A regular (not editable) install: the checkout (e.g. /vagrant) may go away later.
  run "$PREFIX/venv/bin/pip" install -q "$SRC_DIR"
  run install -D -m 0644 "$SRC_DIR/docs/deploy.md" "$PREFIX/docs/deploy.md"
  run ln -sf "$MINIK8S" /usr/local/bin/minik8s
}

write_env_file() {
  if [ -e "$CONFIG_DIR/minik8s.env" ]; then
    return
  fi
  write_file "$CONFIG_DIR/minik8s.env" 0644 <<'EOF'
# Environment for every minik8s unit (EnvironmentFile=). MINIK8S_<COMMAND>_<OPTION>
# variables override the option in /etc/minik8s/<command>.yaml, e.g.
#   MINIK8S_KUBELET_MAX_PODS=50
MINIK8S_LOG_LEVEL=info
EOF
}

# The units given, and the API servers' load balancer's, which stays disabled: it starts
# only once the admin writes /etc/minik8s/lb.yaml and enables it (docs/deploy.md).
install_units() {
  local unit
  for unit in "$@" minik8s-lb.service; do
    run install -m 0644 "$SRC_DIR/deploy/systemd/$unit" "$UNIT_DIR/$unit"
  done
  run systemctl daemon-reload
}

# The master's own check, with the CA `minik8s init` made (a node has no CA before it joins;
# `minik8s join` waits for the master itself).
wait_for_api() {
  local url="https://${1:-$master_ip}:${port}/readyz" i
  step "waiting for the API server at $url"
  if [ "$dry_run" = 1 ]; then
    echo "+ curl -fsS --cacert $CONFIG_DIR/pki/ca.crt $url (until it answers, up to $api_timeout s)"
    return
  fi
  for i in $(seq "$api_timeout"); do
    if curl -fsS -o /dev/null --max-time 2 --cacert "$CONFIG_DIR/pki/ca.crt" "$url"; then
      return
    fi
    [ "$i" = "$api_timeout" ] || sleep 1
  done
  die "the API server at $url did not answer within $api_timeout s (--api-timeout)"
}

# root's kubectl talks to the cluster as kubernetes-admin (kubeadm asks the user to copy it).
install_admin_kubeconfig() {
  if [ "$dry_run" = 0 ] && [ -e /root/.kube/config ]; then
    echo "/root/.kube/config exists; the admin kubeconfig is $CONFIG_DIR/admin.conf"
    return
  fi
  run install -D -m 0600 "$CONFIG_DIR/admin.conf" /root/.kube/config
}

# The units of those optional components this minik8s has a command for.
optional_units() {
  local command
  for command in "$@"; do
    if [ "$dry_run" = 1 ] || "$MINIK8S" "$command" --help >/dev/null 2>&1; then
      echo "minik8s-${command}.service"
    fi
  done
}

# --- roles ------------------------------------------------------------------------------------

# The units of a master, whether it started the cluster or joined it.
master_units() {
  printf '%s\n' etcd.service minik8s-apiserver.service minik8s-controller-manager.service minik8s-scheduler.service
  optional_units dns
}

start_master_units() {
  local units
  write_env_file
  mapfile -t units < <(master_units)
  step "installing and starting ${units[*]}"
  install_units "${units[@]}"
  run systemctl enable "${units[@]}"
  # restart, not start: Debian's etcd-server package may already run etcd from its own unit.
  run systemctl restart "${units[@]}"
  open_firewall
}

install_master() {
  local args join_cmd node_cmd key=""
  if [ "$join" = 1 ]; then
    join_master
    return
  fi
  if [ -n "$ca_cert" ] || [ -n "$ca_key" ]; then
    if [ -z "$ca_cert" ] || [ -z "$ca_key" ]; then die "--ca-cert and --ca-key go together"; fi
    step "installing the given cluster CA"
    run install -D -m 0644 "$ca_cert" "$CONFIG_DIR/pki/ca.crt"
    run install -D -m 0600 "$ca_key" "$CONFIG_DIR/pki/ca.key"
  fi
  step "writing $CONFIG_DIR/*.yaml and the cluster PKI ($CONFIG_DIR/pki)"
  run "$MINIK8S" init --advertise-address "$master_ip" --port "$port" --config-dir "$CONFIG_DIR" "${sets[@]}"
  start_master_units
  wait_for_api
  install_admin_kubeconfig
  if [ "$upload_certs" = 1 ]; then
    step "uploading the shared PKI, encrypted, for the masters that join (kube-system/minik8s-certs, 2 h)"
    args=(certs upload --config-dir "$CONFIG_DIR")
    if [ -n "$certificate_key" ]; then args+=(--certificate-key "$certificate_key"); fi
    if [ "$dry_run" = 1 ]; then
      run "$MINIK8S" "${args[@]}"
      key="${certificate_key:-<certificate key>}"
    else
      key="$("$MINIK8S" "${args[@]}")"
    fi
  fi
  step "creating a bootstrap token"
  args=(token create --config-dir "$CONFIG_DIR")
  if [ -n "$token" ]; then
    args+=(--token "$token" --ttl 0)
  fi
  if [ -n "$key" ]; then args+=(--certificate-key "$key"); fi
  if [ "$dry_run" = 1 ]; then
    run "$MINIK8S" "${args[@]}"
    join_cmd="minik8s join https://${master_ip}:${port} --token ${token:-<token>} --discovery-token-ca-cert-hash <hash>"
    if [ -n "$key" ]; then join_cmd+=" --control-plane --certificate-key $key"; fi
  else
    join_cmd="$("$MINIK8S" "${args[@]}")"
  fi
  if [ -n "$join_file" ]; then
    echo "$join_cmd" | write_file "$join_file" 0600
  fi
  node_cmd="${join_cmd%% --control-plane*}"
  echo
  echo "master ready. On each node run (from a minik8s checkout):"
  echo "  deploy/install.sh --role node --master-ip $master_ip $(join_args_of "$join_cmd")"
  echo "or, where minik8s is installed already:"
  echo "  $node_cmd"
  if [ -n "$key" ]; then
    echo
    echo "To add a master (while the certificates are uploaded: 2 hours; then \`minik8s certs upload\` again),"
    echo "on it run (from a minik8s checkout):"
    echo "  deploy/install.sh --role master --join --master-ip $master_ip $(join_args_of "$join_cmd") --certificate-key $key"
    echo "or, where minik8s is installed already:"
    echo "  $join_cmd"
  fi
}

# Another master (kubeadm's join --control-plane): the shared PKI from the master at
# --master-ip, an etcd member added, then the same units as the first master's.
join_master() {
  local join_args
  read_join_file
  [ -n "$token" ] || die "--token (or --join-file) is required to join a master"
  [ -n "$ca_cert_hash" ] || die "--ca-cert-hash (or --join-file) is required to join a master: without it the master would trust any server"
  [ -n "$certificate_key" ] || die "--certificate-key (or --join-file) is required to join a master (\`minik8s certs upload\` prints it)"
  step "joining the masters (the CA checked against $ca_cert_hash, the shared PKI decrypted, an etcd member added)"
  join_args=(join "https://${master_ip}:${port}" --token "$token" --discovery-token-ca-cert-hash "$ca_cert_hash"
             --control-plane --certificate-key "$certificate_key" --config-dir "$CONFIG_DIR" --no-start --timeout 300)
  if [ -n "$advertise_address" ]; then join_args+=(--advertise-address "$advertise_address"); fi
  if [ -n "$node_name" ]; then join_args+=(--etcd-name "$node_name"); fi
  run "$MINIK8S" "${join_args[@]}" "${sets[@]}"
  start_master_units
  wait_for_api "${advertise_address:-127.0.0.1}"
  install_admin_kubeconfig
  echo
  echo "master joined; on any master: kubectl get endpoints kubernetes; minik8s etcd member list"
}

# Fill in what --token, --ca-cert-hash and --certificate-key left empty from --join-file.
read_join_file() {
  [ -n "$join_file" ] || return 0
  if [ -n "$token" ] && [ -n "$ca_cert_hash" ] && { [ "$role" = node ] || [ -n "$certificate_key" ]; }; then
    return 0
  fi
  if [ "$dry_run" = 1 ] && [ ! -r "$join_file" ]; then
    token="${token:-<token from $join_file>}"
    ca_cert_hash="${ca_cert_hash:-<hash from $join_file>}"
    if [ "$role" = master ]; then certificate_key="${certificate_key:-<certificate key from $join_file>}"; fi
    return 0
  fi
  [ -r "$join_file" ] || die "$join_file is not readable"
  [ -n "$token" ] || token="$(sed -n 's/.*--token \([^ ]*\).*/\1/p' "$join_file")"
  [ -n "$ca_cert_hash" ] || ca_cert_hash="$(sed -n 's/.*--discovery-token-ca-cert-hash \([^ ]*\).*/\1/p' "$join_file")"
  if [ "$role" = master ] && [ -z "$certificate_key" ]; then
    certificate_key="$(sed -n 's/.*--certificate-key \([^ ]*\).*/\1/p' "$join_file")"
  fi
}

# "--token T --ca-cert-hash H" from a join command.
join_args_of() {
  local cmd="$1"
  printf -- '--token %s --ca-cert-hash %s' \
    "$(sed -n 's/.*--token \([^ ]*\).*/\1/p' <<<"$cmd")" \
    "$(sed -n 's/.*--discovery-token-ca-cert-hash \([^ ]*\).*/\1/p' <<<"$cmd")"
}

install_node() {
  local units join_args
  read_join_file
  [ -n "$token" ] || die "--token (or --join-file) is required for a node"
  [ -n "$ca_cert_hash" ] || die "--ca-cert-hash (or --join-file) is required for a node: without it the node would trust any server"
  step "starting Docker"
  run systemctl enable --now docker.service
  if [ -n "$images" ]; then
    step "loading the project's images from $images"
    run docker load -i "$images"
  else
    step "building the project's images (offline, from the checkout)"
    run "$PREFIX/venv/bin/python" -m minik8s.images.build
  fi
  step "joining the cluster (the CA checked against $ca_cert_hash, the node's own certificates)"
  join_args=(join "https://${master_ip}:${port}" --token "$token" --discovery-token-ca-cert-hash "$ca_cert_hash"
             --config-dir "$CONFIG_DIR" --no-start --timeout 300)
  if [ -n "$node_ip" ]; then join_args+=(--node-ip "$node_ip"); fi
  if [ -n "$node_name" ]; then join_args+=(--node-name "$node_name"); fi
  run "$MINIK8S" "${join_args[@]}" "${sets[@]}"
  write_env_file
  mapfile -t units < <(echo minik8s-kubelet.service; optional_units network-agent proxy)
  step "installing and starting ${units[*]}"
  install_units "${units[@]}"
  run systemctl enable "${units[@]}"
  run systemctl restart "${units[@]}"
  open_firewall
  echo
  echo "node joined; on the master: kubectl get nodes -o wide"
}

main() {
  detect_pkg
  step "installing packages ($pkg, role $role)"
  "install_packages_$pkg"
  step "installing minik8s into $PREFIX/venv from $SRC_DIR"
  install_minik8s
  "install_$role"
}

main
