"""X.509 and key primitives for the cluster's PKI, on the `cryptography` package.

Everything that makes, reads or checks a certificate goes through here: the CA and
the certificates `minik8s init`/`up`/`cluster up` make (minik8s.cluster.pki), the
API server's client-certificate authenticator, the CSR signer in the controller
manager and the join flow's CA pinning. Nothing here does I/O except the two file
writers at the end, which are atomic and keep private material at mode 0600.

Keys are ECDSA P-256 (as k3s): quick to make (a cluster makes a dozen at `up`) and
cheap in every TLS handshake. The service-account signing key is RSA, because
ServiceAccount tokens are RS256 JWTs as in Kubernetes.
"""
from __future__ import annotations

import dataclasses
import datetime
import hashlib
import ipaddress
import os
import pathlib
import secrets
from collections.abc import Iterable, Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.oid import NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey

DAY = datetime.timedelta(days=1)
CA_DAYS = 3650
LEAF_DAYS = 365
# Certificates are valid from a little before they are made, so a peer whose clock
# is slightly behind does not reject a certificate made a moment ago.
BACKDATE = datetime.timedelta(minutes=5)


class PKIError(Exception):
    """A certificate or key is unreadable, or does not fit what it must be."""


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


# --- keys ---------------------------------------------------------------------------


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def new_rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def public_key_pem(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_key(pem: bytes) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as e:
        raise PKIError(f"not a PEM private key: {e}") from None
    if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise PKIError(f"unsupported private key type {type(key).__name__}")
    return key


def load_public_key(pem: bytes) -> PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as e:
        raise PKIError(f"not a PEM public key: {e}") from None
    if not isinstance(key, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
        raise PKIError(f"unsupported public key type {type(key).__name__}")
    return key


# --- certificates ---------------------------------------------------------------------


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def load_cert(pem: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as e:
        raise PKIError(f"not a PEM certificate: {e}") from None


def load_certs(pem: bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle (a CA file may hold more than one)."""
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError as e:
        raise PKIError(f"not a PEM certificate bundle: {e}") from None
    return certs


@dataclasses.dataclass(frozen=True)
class CertSpec:
    """What a leaf certificate says: who (CN, O) and, for servers, which names."""

    common_name: str
    organizations: tuple[str, ...] = ()
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()
    client: bool = True
    server: bool = False
    days: float = LEAF_DAYS


def _name(common_name: str, organizations: Sequence[str] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    if common_name:  # X.509 has no empty CN; a subject without one is what an empty name means
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _serial() -> int:
    # 127 random bits: positive and unique without any state to keep.
    return secrets.randbits(127) | 1


def make_ca(common_name: str = "minik8s-ca", days: int = CA_DAYS,
            now: datetime.datetime | None = None) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = new_key()
    now = now or utcnow()
    name = _name(common_name)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(_serial())
            .not_valid_before(now - BACKDATE).not_valid_after(now + days * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def issue(ca_key: PrivateKey, ca_cert: x509.Certificate, public_key: PublicKey, spec: CertSpec,
          now: datetime.datetime | None = None) -> x509.Certificate:
    """A leaf certificate for `public_key`, signed by the CA.

    Never valid past the CA itself: a chain is only as valid as its shortest link.
    """
    now = now or utcnow()
    not_after = min(now + spec.days * DAY, ca_cert.not_valid_after_utc)
    usages = []
    if spec.client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    if spec.server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if not usages:
        raise PKIError("a certificate must be for a client, a server or both")
    builder = (x509.CertificateBuilder()
               .subject_name(_name(spec.common_name, spec.organizations))
               .issuer_name(ca_cert.subject)
               .public_key(public_key)
               .serial_number(_serial())
               .not_valid_before(now - BACKDATE).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                            key_encipherment=isinstance(public_key, rsa.RSAPublicKey),
                                            data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
                              critical=False))
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in spec.dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in spec.ip_addresses]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


# --- certificate signing requests ----------------------------------------------------------


def split_names(names: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(DNS names, IP addresses) out of names that may be either, in order, without repeats or blanks."""
    dns: list[str] = []
    ips: list[str] = []
    for name in names:
        if not name:
            continue
        try:
            ipaddress.ip_address(name)
        except ValueError:
            target = dns
        else:
            target = ips
        if name not in target:
            target.append(name)
    return tuple(dns), tuple(ips)


def make_csr(key: PrivateKey, common_name: str, organizations: Sequence[str] = (), *,
             dns_names: Sequence[str] = (), ip_addresses: Sequence[str] = ()) -> bytes:
    """A PEM PKCS#10 request, as a kubelet sends in a CertificateSigningRequest (with
    names: a serving certificate's)."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(_name(common_name, organizations))
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def load_csr(pem: bytes) -> x509.CertificateSigningRequest:
    try:
        csr = x509.load_pem_x509_csr(pem)
    except ValueError as e:
        raise PKIError(f"not a PEM certificate request: {e}") from None
    if not csr.is_signature_valid:
        raise PKIError("the certificate request's signature does not match its key")
    return csr


def csr_public_key(csr: x509.CertificateSigningRequest) -> PublicKey:
    key = csr.public_key()
    if not isinstance(key, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
        raise PKIError(f"unsupported public key type {type(key).__name__} in the request")
    return key


# --- reading what a certificate says ---------------------------------------------------------


def subject(name: x509.Name) -> tuple[str, tuple[str, ...]]:
    """(common name, organizations) of a certificate or request subject."""
    cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    orgs = name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    cn = str(cns[0].value) if cns else ""
    return cn, tuple(str(o.value) for o in orgs)


def sans(cert: x509.Certificate) -> tuple[set[str], set[str]]:
    """(DNS names, IP addresses) a certificate is valid for."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set(), set()
    return set(ext.get_values_for_type(x509.DNSName)), {str(ip) for ip in ext.get_values_for_type(x509.IPAddress)}


def request_sans(req: x509.CertificateSigningRequest) -> tuple[list[str], list[str], int]:
    """(DNS names, IP addresses, count of any other kind of name) a request asks for."""
    try:
        ext = req.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], [], 0
    dns = list(ext.get_values_for_type(x509.DNSName))
    ips = [str(ip) for ip in ext.get_values_for_type(x509.IPAddress)]
    return dns, ips, len(list(ext)) - len(dns) - len(ips)


def extended_key_usages(cert: x509.Certificate) -> set[str]:
    """'client', 'server' for the TLS usages a certificate allows."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return set()
    out = set()
    if ExtendedKeyUsageOID.CLIENT_AUTH in ext:
        out.add("client")
    if ExtendedKeyUsageOID.SERVER_AUTH in ext:
        out.add("server")
    return out


def signed_by(cert: x509.Certificate, ca_cert: x509.Certificate) -> bool:
    if cert.issuer != ca_cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def remaining(cert: x509.Certificate, now: datetime.datetime | None = None) -> datetime.timedelta:
    return cert.not_valid_after_utc - (now or utcnow())


def spki_sha256(cert: x509.Certificate) -> str:
    """kubeadm's CA pin: `sha256:` + the hex SHA-256 of the DER SubjectPublicKeyInfo."""
    der = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def same_public_key(cert: x509.Certificate, key: PrivateKey) -> bool:
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return bool(cert.public_key().public_bytes(*fmt) == key.public_key().public_bytes(*fmt))


# --- files ----------------------------------------------------------------------------------


def write_file(path: str | os.PathLike[str], data: bytes, mode: int) -> pathlib.Path:
    """Write atomically with `mode` from the first byte (a key is never readable by others,
    not even between create and chmod)."""
    p = pathlib.Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, p)
    return p


def write_private(path: str | os.PathLike[str], data: bytes) -> pathlib.Path:
    return write_file(path, data, 0o600)


def write_public(path: str | os.PathLike[str], data: bytes) -> pathlib.Path:
    return write_file(path, data, 0o644)
