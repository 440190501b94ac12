"""Client certificates: CN is the user, each O a group (Kubernetes' x509 authenticator).

The TLS layer has already checked the chain to the cluster CA (tls.py) but not the
dates: Python's ssl offers no way to answer a bad certificate with an HTTP 401, so
the time check is left to this module, which turns an expired (or not yet valid)
certificate into a 401 with a Status body instead of a dropped connection. The
chain is checked here again, so the authenticator does not depend on how the
socket was set up. Results are cached per certificate; the dates are checked on
every request.
"""
from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence

from cryptography import x509

from minik8s.api import errors
from minik8s.apiserver.authn import user as user_mod
from minik8s.util import pki

Clock = Callable[[], datetime.datetime]


class CertificateAuthenticator:
    CACHE_SIZE = 4096

    def __init__(self, cas: Sequence[x509.Certificate], clock: Clock = pki.utcnow) -> None:
        if not cas:
            raise ValueError("client certificate authentication needs at least one CA")
        self.cas = list(cas)
        self.clock = clock
        self._cache: dict[bytes, tuple[user_mod.UserInfo, datetime.datetime, datetime.datetime]] = {}

    @classmethod
    def from_file(cls, path: str) -> "CertificateAuthenticator":
        with open(path, "rb") as f:
            return cls(pki.load_certs(f.read()))

    def authenticate(self, der: bytes) -> user_mod.UserInfo:
        """The user a (DER) client certificate stands for; errors.Unauthorized if it stands for none."""
        entry = self._cache.get(der)
        if entry is None:
            entry = self._check(der)
            if len(self._cache) >= self.CACHE_SIZE:
                self._cache.clear()
            self._cache[der] = entry
        user, not_before, not_after = entry
        now = self.clock()
        if now < not_before:
            raise errors.Unauthorized("Unauthorized: the client certificate is not valid yet")
        if now >= not_after:
            raise errors.Unauthorized("Unauthorized: the client certificate has expired")
        return user

    def _check(self, der: bytes) -> tuple[user_mod.UserInfo, datetime.datetime, datetime.datetime]:
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError:
            raise errors.Unauthorized("Unauthorized: the client certificate is unreadable") from None
        if not any(pki.signed_by(cert, ca) for ca in self.cas):
            raise errors.Unauthorized("Unauthorized: the client certificate is not signed by the cluster CA")
        usages = pki.extended_key_usages(cert)
        if "client" not in usages:
            raise errors.Unauthorized("Unauthorized: the certificate is not for client authentication")
        cn, orgs = pki.subject(cert.subject)
        if not cn:
            raise errors.Unauthorized("Unauthorized: the client certificate names no user (empty CN)")
        user = user_mod.authenticated(cn, groups=orgs)
        return user, cert.not_valid_before_utc, cert.not_valid_after_utc
