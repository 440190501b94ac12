"""The API server's TLS: HTTPS only, a client certificate asked for and chained to the cluster CA.

A client may come without a certificate (bearer tokens, anonymous health checks),
so the certificate is optional. One that is presented must chain to the client CA,
or the handshake fails: Python's ssl has no hook to let an unknown CA through to a
401. Certificate dates are the exception: OpenSSL is told not to check them
(X509_V_FLAG_NO_CHECK_TIME, an OpenSSL verify flag set through ssl's verify_flags)
and the x509 authenticator checks them instead, so an expired certificate gets a
401 with a Status body, as on Kubernetes.
"""
from __future__ import annotations

import ssl

from aiohttp import web

# OpenSSL's X509_V_FLAG_NO_CHECK_TIME (1.1.0+, 3.x); ssl passes verify_flags bits through.
X509_V_FLAG_NO_CHECK_TIME = 0x200000


def server_context(cert_file: str, key_file: str, client_ca_file: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_file, key_file)
    ctx.load_verify_locations(cafile=client_ca_file)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.verify_flags = ssl.VerifyFlags(int(ctx.verify_flags) | X509_V_FLAG_NO_CHECK_TIME)
    # Go clients (kubectl) offer h2 first; this server speaks HTTP/1.1.
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def peer_certificate(request: web.Request) -> bytes | None:
    """The client's certificate (DER), if it presented one."""
    transport = request.transport
    if transport is None:
        return None
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return der or None
