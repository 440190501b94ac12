"""How the API server calls kubelets: HTTPS, its own client certificate, the kubelet's checked.

kube-apiserver's --kubelet-client-certificate, --kubelet-client-key and
--kubelet-certificate-authority. The kubelet serves only this client certificate
(CN kube-apiserver-kubelet-client) and system:masters (minik8s/kubelet/servertls.py);
the API server checks the kubelet's serving certificate against the CA and the
address it dials (the node's InternalIP), so a host that takes over a node's
address cannot read the exec streams meant for it. Unlike kube-apiserver, the
check is never skipped: without --kubelet-certificate-authority the client CA
(the cluster CA, which signs kubelets' certificates too) is used.

Used by the node proxy (logs, exec, attach, port-forward) and the metrics scraper.
"""
from __future__ import annotations

import dataclasses
import pathlib
import ssl

from minik8s.client import tls as tls_mod


@dataclasses.dataclass(frozen=True)
class KubeletClientConfig:
    cert_file: str = ""
    key_file: str = ""
    ca_file: str = ""

    def ssl_context(self) -> ssl.SSLContext:
        """The client context; raises tls_mod.TLSError (or OSError) when a file is unusable."""
        def read(path: str) -> bytes | None:
            return pathlib.Path(path).read_bytes() if path else None

        if bool(self.cert_file) != bool(self.key_file):
            raise tls_mod.TLSError("--kubelet-client-certificate and --kubelet-client-key go together")
        return tls_mod.client_context(tls_mod.TLSConfig(ca=read(self.ca_file), cert=read(self.cert_file),
                                                        key=read(self.key_file)))


def base_url(host: str, port: int) -> str:
    return f"https://{f'[{host}]' if ':' in host else host}:{port}"
