"""The certificates a badge trusts for https: what ``--ca`` files hold, as the badge reads them.

MicroPython has no store of trusted certificates, so the badge trusts exactly those given at
deploy: the CA that signed the server's certificate (and the identity provider's, when it is
elsewhere), or a server's own self-signed certificate, pinned. The badge keeps them in
``ca.der``, DER certificates one after another, which it reads without a PEM parser.
"""

from datetime import datetime, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from arcade.sdk.errors import ArcadeError

ON_BADGE = "ca.der"


class TrustError(ArcadeError):
    """A ``--ca`` file the badge could not use; the message says which and why."""


def read_certificates(files: list[Path]) -> bytes:
    """The DER of every certificate in ``files`` (PEM, one or more each, or one DER), joined."""
    der = b""
    for file in files:
        for certificate in _certificates(file):
            if certificate.not_valid_after_utc < datetime.now(timezone.utc):
                raise TrustError(
                    f"--ca {file}: the certificate {certificate.subject.rfc4514_string()} expired on "
                    f"{certificate.not_valid_after_utc:%Y-%m-%d}; the badge would refuse every server it signed"
                )
            der += certificate.public_bytes(Encoding.DER)
    return der


def _certificates(file: Path) -> list[x509.Certificate]:
    try:
        data = file.read_bytes()
    except OSError as error:
        raise TrustError(f"--ca {file}: cannot be read ({error.strerror})") from None
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise TrustError(
            f"--ca {file}: holds no certificate; give the CA certificate (PEM or DER) that signed the "
            "server's certificate, or the server's own self-signed one (never its private key)"
        ) from None
