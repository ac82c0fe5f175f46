"""``medbro api --ssl-certfile --ssl-keyfile``: HTTPS with a certificate made in the test."""

from __future__ import annotations

import ssl
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address

import httpx
import pytest
from apiprocess import medbro_api
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.registry import hash_api_key

KEY = "k-tls-test"


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "medbro test")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_the_api_serves_https_with_the_given_certificate(tmp_path, certificate):
    cert_file, key_file = certificate
    trust = ssl.create_default_context(cafile=str(cert_file))
    with medbro_api(tmp_path, hash_api_key(KEY), scheme="https", verify=trust,
                    args=("--ssl-certfile", str(cert_file), "--ssl-keyfile", str(key_file))
                    ) as (base, _stderr, _process):
        assert base.startswith("https://")
        answer = httpx.get(f"{base}/v1/messages/none", headers={"X-API-Key": KEY}, verify=trust)
        assert answer.status_code == 404  # authenticated over TLS: no such message
        with pytest.raises(httpx.ConnectError):  # a client that does not trust it: refused
            httpx.get(f"{base}/healthz", verify=True)
        with pytest.raises(httpx.HTTPError):  # plain HTTP on the TLS port: no answer
            httpx.get(base.replace("https://", "http://") + "/healthz")


@pytest.mark.parametrize("given", [("--ssl-certfile",), ("--ssl-keyfile",)])
def test_certificate_and_key_go_together(tmp_path, certificate, given):
    cert_file, _ = certificate
    result = subprocess.run([sys.executable, "-m", "gateway.cli", "api", given[0],
                             str(cert_file)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--ssl-certfile and --ssl-keyfile go together" in result.stderr
