#!/usr/bin/env bash
# libvirt for `make vagrant-test`, with every VM network inside a network namespace.
#
#   deploy/vagrant/libvirt-netns.sh start       make the namespace, start virtlogd and libvirtd in it
#   deploy/vagrant/libvirt-netns.sh run CMD...  run CMD in the namespace (vagrant, ssh, kubectl, pytest)
#   deploy/vagrant/libvirt-netns.sh stop        remove every domain, volume, network and pool made
#                                               since start, stop the daemons, delete the namespace;
#                                               exits 1 (after cleaning up) if Vagrant left any of them
#   deploy/vagrant/libvirt-netns.sh check       exit 1 and list them if anything of ours is left
#
# Where systemd is PID 1 (a workstation) the system's libvirtd is used instead
# (`systemctl start libvirtd`) and no namespace is made: libvirt's bridges are then
# this machine's own. Elsewhere (these sandboxes: no systemd) the script starts the
# daemons itself, in the namespace $MINIK8S_VAGRANT_NETNS (default minik8s-vagrant),
# which has no link to the outside: libvirt's bridges, dnsmasq and the VMs' traffic live
# there, and nothing the VMs send can leave it. Only processes it started are stopped,
# by the pids they wrote.
set -euo pipefail

NETNS="${MINIK8S_VAGRANT_NETNS:-minik8s-vagrant}"
STATE="/run/minik8s-vagrant"
POOL_DIR="/var/lib/libvirt/images"

die() { echo "libvirt-netns.sh: $*" >&2; exit 1; }
log() { echo "libvirt-netns.sh: $*" >&2; }

systemd_pid1() { [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; }

mode() {
  if [ -f "$STATE/mode" ]; then cat "$STATE/mode"
  elif systemd_pid1; then echo systemd
  else echo netns
  fi
}

in_ns() {
  if [ "$(mode)" = netns ]; then
    nsenter --net="/run/netns/$NETNS" -- "$@"
  else
    "$@"
  fi
}

virsh_() { in_ns virsh -q -c qemu:///system "$@"; }

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# Stop a daemon we started, by the pid it wrote.
stop_pid() {
  local pidfile="$1" pid
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  if pid_alive "$pid"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do pid_alive "$pid" || break; sleep 0.1; done
    if pid_alive "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$pidfile"
}

wait_for_libvirtd() {

  for _ in $(seq 100); do
    if virsh_ version >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "libvirtd does not answer on qemu:///system"
}

start() {
  mkdir -p "$STATE"
  if [ -f "$STATE/mode" ]; then
    log "an earlier run left its state in $STATE: cleaning up first"
    stop || true
    mkdir -p "$STATE"
  fi
  local m
  m="$(mode)"
  echo "$m" >"$STATE/mode"
  if [ "$m" = systemd ]; then
    systemctl start virtlogd.service libvirtd.service
  else
    if [ -S /run/libvirt/libvirt-sock ] && virsh -q -c qemu:///system version >/dev/null 2>&1; then
      die "a libvirtd not started by this script already runs here; stop it first"
    fi
    ip netns add "$NETNS"
    ip -n "$NETNS" link set lo up
    # virtlogd first: libvirtd hands it each domain's console log.
    nsenter --net="/run/netns/$NETNS" -- virtlogd --daemon --pid-file "$STATE/virtlogd.pid"
    nsenter --net="/run/netns/$NETNS" -- libvirtd --daemon --pid-file "$STATE/libvirtd.pid"
  fi
  wait_for_libvirtd
  # libvirt keeps domains and networks on disk (/etc/libvirt): a run killed before its stop
  # leaves them to the next libvirtd, where Vagrant's `up` would stop at "name already taken".
  local stale
  stale="$(vagrant_leftovers)"
  if [ -n "$stale" ]; then
    log "an earlier run left these in libvirt: removing them"
    printf '  %s\n' "$stale" >&2
    remove_ours
  fi
  # What existed before (the package's `default` network, a pool a user made): kept at stop.
  virsh_ net-list --all --name | sed '/^$/d' >"$STATE/networks-before"
  virsh_ pool-list --all --name | sed '/^$/d' >"$STATE/pools-before"
  virsh_ net-list --name | sed '/^$/d' >"$STATE/networks-active-before"
  log "libvirtd ready ($m$([ "$m" = netns ] && echo " $NETNS"))"
}

# The Vagrantfile names its domains minik8s_<machine> (libvirt.default_prefix); their disks
# are minik8s_<machine>.img and the box's volume minik8s-VAGRANTSLASH-debian12-<key>_...
our_domains() { virsh_ list --all --name | grep '^minik8s_' || true; }
our_volumes() { virsh_ vol-list "$1" | awk '{print $1}' | grep '^minik8s' || true; }

# What `vagrant destroy` should have removed and did not: domains, the VMs' disks, the
# networks Vagrant made. (The box's volume and the storage pool stay by design: stop
# removes them.) One line each.
vagrant_leftovers() {
  our_domains | sed 's/^/domain /'
  for pool in $(virsh_ pool-list --name); do
    our_volumes "$pool" | grep -v VAGRANTSLASH | sed "s|^|volume $pool/|" || true
  done
  virsh_ net-list --all --name | grep '^minik8s' | sed 's/^/network /' || true
}

# Remove the domains, volumes and networks the Vagrantfile names (minik8s_*, minik8s*,
# minik8s-*), whenever they were made.
remove_ours() {
  local name pool
  for name in $(our_domains); do
    virsh_ destroy "$name" >/dev/null 2>&1 || true
    virsh_ undefine --nvram --remove-all-storage "$name" >/dev/null 2>&1 || virsh_ undefine "$name" >/dev/null 2>&1 || true
  done
  for pool in $(virsh_ pool-list --name); do
    for name in $(our_volumes "$pool"); do
      virsh_ vol-delete --pool "$pool" "$name" >/dev/null
    done
  done
  for name in $(virsh_ net-list --all --name | grep '^minik8s' || true); do
    virsh_ net-destroy "$name" >/dev/null 2>&1 || true
    virsh_ net-undefine "$name" >/dev/null
  done
}

# Everything of ours still in libvirt: domains, Vagrant's volumes, networks and pools
# made since start. One line each.
libvirt_leftovers() {
  local name pool
  our_domains | sed 's/^/domain /'
  for pool in $(virsh_ pool-list --name); do
    our_volumes "$pool" | sed "s|^|volume $pool/|"
  done
  virsh_ net-list --all --name | sed '/^$/d' | while read -r name; do
    grep -qx "$name" "$STATE/networks-before" || echo "network $name"
  done
  virsh_ pool-list --all --name | sed '/^$/d' | while read -r name; do
    grep -qx "$name" "$STATE/pools-before" || echo "pool $name"
  done
}

# Leftovers outside libvirt: the namespace, processes in it, daemons we started.
host_leftovers() {
  local f
  if [ -e "/run/netns/$NETNS" ]; then
    echo "netns $NETNS"
    ip netns pids "$NETNS" 2>/dev/null | while read -r pid; do
      echo "process $pid in $NETNS: $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | cut -c1-100)"
    done
  fi
  for f in "$STATE"/*.pid; do
    [ -f "$f" ] || continue
    if pid_alive "$(cat "$f")"; then echo "daemon $(basename "$f" .pid) pid $(cat "$f")"; fi
  done
  pgrep -a -f "qemu-system-x86_64 .*-name guest=minik8s" | sed 's/^/process /' || true
  # The VMs' disks and the boxes' volumes (Vagrant names them minik8s_* and minik8s-VAGRANTSLASH-*).
  find "$POOL_DIR" -maxdepth 1 -name 'minik8s*' 2>/dev/null | sed 's/^/file /' || true
}

stop() {
  [ -f "$STATE/mode" ] || { log "nothing started"; return 0; }
  local m left=() name pool status=0
  m="$(mode)"
  if virsh_ version >/dev/null 2>&1; then
    mapfile -t left < <(vagrant_leftovers)
    remove_ours
    # Every active network's dnsmasq was started by this libvirtd: stop them all; undefine ours.
    for name in $(virsh_ net-list --name); do
      if [ "$m" = systemd ] && grep -qx "$name" "$STATE/networks-active-before"; then continue; fi
      virsh_ net-destroy "$name" >/dev/null
    done
    for name in $(virsh_ net-list --all --name); do
      grep -qx "$name" "$STATE/networks-before" || virsh_ net-undefine "$name" >/dev/null
    done
    for name in $(virsh_ pool-list --all --name); do
      if ! grep -qx "$name" "$STATE/pools-before"; then
        virsh_ pool-destroy "$name" >/dev/null 2>&1 || true
        virsh_ pool-undefine "$name" >/dev/null
      fi
    done
  fi
  if [ "$m" = netns ]; then
    stop_pid "$STATE/libvirtd.pid"
    stop_pid "$STATE/virtlogd.pid"
    if [ -e "/run/netns/$NETNS" ]; then
      local pids
      pids="$(ip netns pids "$NETNS" || true)"
      if [ -n "$pids" ]; then
        left+=("processes left in $NETNS: $(echo "$pids" | tr '\n' ' ')")
        # Started inside our namespace, so ours (dnsmasq, a qemu): stop them.
        # shellcheck disable=SC2086
        kill $pids 2>/dev/null || true
        sleep 1
        # shellcheck disable=SC2086
        pids="$(ip netns pids "$NETNS" || true)"
        # shellcheck disable=SC2086
        [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
      fi
      ip netns del "$NETNS"
    fi
    # Disks a run left when its libvirtd was gone before stop (a killed session): only this
    # script's libvirtd makes minik8s* volumes here, and nothing else can delete them now.
    local disk
    while read -r disk; do
      [ -n "$disk" ] || continue
      left+=("file $disk (removed)")
      rm -f "$disk"
    done < <(find "$POOL_DIR" -maxdepth 1 -name 'minik8s*' 2>/dev/null)
  fi
  rm -rf "$STATE"
  mapfile -t -O "${#left[@]}" left < <(STATE=/nonexistent host_leftovers)
  if [ "${#left[@]}" -gt 0 ]; then
    log "left behind (now removed where possible):"
    printf '  %s\n' "${left[@]}" >&2
    status=1
  fi
  return "$status"
}

check() {
  local left=()
  if [ -f "$STATE/mode" ] && virsh_ version >/dev/null 2>&1; then
    mapfile -t left < <(libvirt_leftovers)
  fi
  mapfile -t -O "${#left[@]}" left < <(host_leftovers)
  if [ "${#left[@]}" -gt 0 ]; then
    printf '%s\n' "${left[@]}"
    return 1
  fi
}

[ "$(id -u)" = 0 ] || die "run as root"
case "${1:-}" in
  start) start ;;
  stop) stop ;;
  check) check ;;
  run) shift; [ $# -gt 0 ] || die "run what?"; in_ns "$@" ;;
  *) die "usage: $0 start|run CMD...|stop|check" ;;
esac
