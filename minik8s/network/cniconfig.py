"""The CNI network configuration the agent writes for the kubelet, as flannel writes its own.

flanneld leaves /run/flannel/subnet.env and its CNI plugin turns that into a
bridge + host-local configuration; here the agent writes that configuration
directly, from the node's `spec.podCIDR`, using only the reference plugins
(Debian's and Fedora's `containernetworking-plugins`):

 - `bridge`: a veth per pod into the node's bridge (`cni0`), the bridge holding
   the subnet's gateway (.1) so the node routes for its pods; `hairpinMode` so a
   pod reaches itself through its Service; `ipMasq: false` because the agent
   masquerades what leaves the cluster CIDR itself (MINIK8S-POSTRTG: the
   bridge's own rule would masquerade pod-to-pod traffic between nodes); the MTU
   leaves room for the VXLAN header;
 - `host-local` IPAM on the pod CIDR, its reservations kept on disk (`dataDir`),
   so a restarted kubelet or agent never hands out an address twice;
 - `portmap` for hostPorts (the runtime passes `portMappings`).

The file is rewritten atomically and only when its content changes, so a
kubelet reading it mid-write sees either version, and a resync writes nothing.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import os
from typing import Any

log = logging.getLogger(__name__)

FILE_NAME = "10-minik8s.conflist"
NETWORK_NAME = "minik8s"
DEFAULT_BRIDGE = "cni0"
DEFAULT_DATA_DIR = "/var/lib/cni/networks"
CNI_VERSION = "1.0.0"


def conflist(pod_cidr: ipaddress.IPv4Network | str, *, bridge: str = DEFAULT_BRIDGE, mtu: int = 0,
             data_dir: str = DEFAULT_DATA_DIR, name: str = NETWORK_NAME) -> dict[str, Any]:
    subnet = ipaddress.IPv4Network(str(pod_cidr))
    bridge_conf: dict[str, Any] = {
        "type": "bridge", "bridge": bridge, "isGateway": True, "ipMasq": False, "hairpinMode": True,
        "ipam": {"type": "host-local", "ranges": [[{"subnet": str(subnet)}]],
                 "routes": [{"dst": "0.0.0.0/0"}], "dataDir": data_dir},
    }
    if mtu:
        bridge_conf["mtu"] = mtu
    return {"cniVersion": CNI_VERSION, "name": name,
            "plugins": [bridge_conf, {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True}]}


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def write(conf_dir: str, doc: dict[str, Any], file_name: str = FILE_NAME) -> bool:
    """Write the configuration unless it is already there as it is; whether it changed."""
    path = os.path.join(conf_dir, file_name)
    text = render(doc)
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return False
    except FileNotFoundError:
        pass
    os.makedirs(conf_dir, exist_ok=True)
    tmp = os.path.join(conf_dir, f".{file_name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    log.info("wrote CNI configuration %s (%s)", path, doc["plugins"][0].get("ipam", {}).get("ranges"))
    return True


def remove(conf_dir: str, file_name: str = FILE_NAME) -> bool:
    try:
        os.unlink(os.path.join(conf_dir, file_name))
        return True
    except FileNotFoundError:
        return False
