"""TLS for clients of the API server: the SSL context a kubeconfig describes.

Fails closed: a server is trusted only through the CA the kubeconfig names (or,
with none named, the system's store, where the cluster CA never is), the host name
is always checked, and a CA or client certificate that cannot be loaded is an
error rather than a reason to go without.
"""
from __future__ import annotations

import dataclasses
import os
import ssl


class TLSError(ValueError):
    """The CA, client certificate or key cannot be used."""


@dataclasses.dataclass(frozen=True)
class TLSConfig:
    ca: bytes | None = None  # PEM bundle trusted for the server; None: the system store
    cert: bytes | None = None  # PEM client certificate (with `key`)
    key: bytes | None = None
    server_name: str | None = None  # name to check the server certificate against, if not the URL's host

    @property
    def has_client_cert(self) -> bool:
        return bool(self.cert and self.key)


def client_context(cfg: TLSConfig | None) -> ssl.SSLContext:
    cfg = cfg or TLSConfig()
    if cfg.ca is None:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    else:
        # Only the cluster's CA: not the system store beside it (nor the cost of loading it).
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            ctx.load_verify_locations(cadata=cfg.ca.decode("ascii"))
        except (ssl.SSLError, UnicodeDecodeError, ValueError) as e:
            raise TLSError(f"the certificate authority data is not a usable PEM certificate: {e}") from None
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cfg.cert or cfg.key:
        if not cfg.has_client_cert:
            raise TLSError("a client certificate needs both the certificate and its key")
        assert cfg.cert is not None and cfg.key is not None
        load_cert_chain(ctx, cfg.cert, cfg.key)
    return ctx


def load_cert_chain(ctx: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    """ssl reads certificates and keys only from files: hand it an anonymous
    in-memory one, so the key embedded in a kubeconfig never touches a disk."""
    fd = os.memfd_create("minik8s-tls-credentials", os.MFD_CLOEXEC)
    try:
        data = cert.rstrip(b"\n") + b"\n" + key
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        ctx.load_cert_chain(f"/proc/self/fd/{fd}")
    except ssl.SSLError as e:
        raise TLSError(f"the client certificate and key cannot be used together: {e}") from None
    finally:
        os.close(fd)
