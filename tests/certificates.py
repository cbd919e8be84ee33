"""Throwaway certificates for TLS on loopback, made with ``cryptography``: a CA and the server
certificates it signs, a server's own self-signed certificate, one for another host name.

Not a test module. The fake Auth0 tenant serves with them; the badge's TLS tests use them for
the genuine arcade and its look-alikes.
"""

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK = ("127.0.0.1", "localhost")


@dataclass
class Certificates:
    ca_file: Path
    """What a client trusts: the CA's certificate (the server's own when it is self-signed)."""
    cert_file: Path
    key_file: Path
    ca_key_file: Path | None = None


def make_certificates(
    folder: Path, hosts: tuple[str, ...] = LOOPBACK, signer: Certificates | None = None, self_signed: bool = False
) -> Certificates:
    """A server certificate for ``hosts``: signed by ``signer``'s CA, by a new CA, or by itself."""
    now = datetime.now(timezone.utc)
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(hosts[0])
    if self_signed:
        ca_key, ca_name = key, subject
    elif signer:
        ca_key = serialization.load_pem_private_key(signer.ca_key_file.read_bytes(), None)
        ca_name = x509.load_pem_x509_certificate(signer.ca_file.read_bytes()).subject
    else:
        ca_key, ca_name = ec.generate_private_key(ec.SECP256R1()), _name(f"Test CA {folder.name}")
        ca = (
            _certificate(ca_name, ca_name, ca_key.public_key(), now)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
    names = [x509.IPAddress(ipaddress.ip_address(host)) if host[0].isdigit() else x509.DNSName(host) for host in hosts]
    leaf = (
        _certificate(subject, ca_name, key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=self_signed), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = Certificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    files.cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(_pem(key))
    if self_signed:
        files.ca_file = files.cert_file
    elif signer:
        files.ca_file, files.ca_key_file = signer.ca_file, signer.ca_key_file
    else:
        files.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        files.ca_key_file = folder / "ca.key"
        files.ca_key_file.write_bytes(_pem(ca_key))
    return files


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _certificate(subject, issuer, public_key, now) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
    )


def _key_usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
