"""Mutual TLS against the stand-in served over real HTTPS, with certificates made here: a CA, a
server certificate for 127.0.0.1, and the seller's client certificate packed as a
password-protected PKCS#12 (.p12), loaded the way a seller loads the file their CA gave them."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette

from facturo.plugin import Context
from facturo.testing import serve_in_thread, stop_server
from facturo_verifactu.sender import CertificateError, Outcome, client_tls_context, send_batch
from facturo_verifactu.standin import StandIn
from facturo_verifactu.submit import send_pending
from facturo_verifactu.testing import customer, invoice, records

PATH = "/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP"
P12_PASSWORD = "contraseña-del-certificado"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ES"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False),
            critical=True,
        )
    elif server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]),
            critical=False,
        ).add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass
class Pki:
    ca_file: Path
    server_cert: Path
    server_key: Path
    client_p12: Path
    stranger_p12: Path


def _pem(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    pem = serialization.Encoding.PEM
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Facturo Test CA", ca_key, None, ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _certificate("127.0.0.1", server_key, ca, ca_key, server=True)
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _certificate("FACTURO TEST SL - B12345674", client_key, ca, ca_key)
    stranger_key = ec.generate_private_key(ec.SECP256R1())
    stranger = _certificate("SELF SIGNED", stranger_key, None, stranger_key)

    def p12(name: str, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> Path:
        data = pkcs12.serialize_key_and_certificates(
            name.encode(),
            key,
            cert,
            [ca],
            serialization.BestAvailableEncryption(P12_PASSWORD.encode("utf-8")),
        )
        return _pem(folder / f"{name}.p12", data)

    return Pki(
        ca_file=_pem(folder / "ca.pem", ca.public_bytes(pem)),
        server_cert=_pem(folder / "server.pem", server.public_bytes(pem)),
        server_key=_pem(
            folder / "server.key",
            server_key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        ),
        client_p12=p12("seller", client_key, client),
        stranger_p12=p12("stranger", stranger_key, stranger),
    )


@pytest.fixture
def https_standin(pki: Pki) -> Iterator[tuple[StandIn, str]]:
    """The stand-in under uvicorn over HTTPS, requiring a client certificate of the test CA."""
    standin = StandIn(wait_seconds=30)
    live = serve_in_thread(
        Starlette(routes=standin.routes(PATH)),
        ssl_certfile=str(pki.server_cert),
        ssl_keyfile=str(pki.server_key),
        ssl_ca_certs=str(pki.ca_file),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
    )
    try:
        yield standin, live.url + PATH
    finally:
        stop_server(live)


def test_pkcs12_client_certificate_over_https(
    pki: Pki,
    https_standin: tuple[StandIn, str],
    make_alta,
    issuer,  # type: ignore[no-untyped-def]
) -> None:
    standin, url = https_standin
    assert url.startswith("https://127.0.0.1:")
    context = client_tls_context(
        str(pki.client_p12), password=P12_PASSWORD, cafile=str(pki.ca_file)
    )
    with httpx.Client(verify=context, timeout=10) as client:
        result = send_batch(client, url, *issuer, [make_alta()])
    assert result.outcomes[0].outcome is Outcome.ACCEPTED and result.wait_seconds == 30
    assert len(standin.held) == 1


def test_without_a_client_certificate_the_handshake_fails(
    pki: Pki,
    https_standin: tuple[StandIn, str],
    make_alta,
    issuer,  # type: ignore[no-untyped-def]
) -> None:
    standin, url = https_standin
    anonymous = ssl.create_default_context(cafile=str(pki.ca_file))
    stranger = client_tls_context(
        str(pki.stranger_p12), password=P12_PASSWORD, cafile=str(pki.ca_file)
    )
    for context in (anonymous, stranger):
        with httpx.Client(verify=context, timeout=10) as client:
            result = send_batch(client, url, *issuer, [make_alta()])
        assert result.outcomes[0].outcome is Outcome.RETRY
        assert result.error is not None and "transport error" in result.error
    assert standin.held == {}


def test_server_not_signed_by_the_trusted_ca_is_refused(
    pki: Pki,
    https_standin: tuple[StandIn, str],
    make_alta,
    issuer,  # type: ignore[no-untyped-def]
) -> None:
    _standin, url = https_standin
    context = client_tls_context(str(pki.client_p12), password=P12_PASSWORD)  # public CAs only
    with httpx.Client(verify=context, timeout=10) as client:
        result = send_batch(client, url, *issuer, [make_alta()])
    assert result.outcomes[0].outcome is Outcome.RETRY
    assert "CERTIFICATE_VERIFY_FAILED" in (result.error or "")


def test_wrong_password_or_file_is_a_clear_error(pki: Pki, tmp_path: Path) -> None:
    with pytest.raises(CertificateError, match="wrong password") as raised:
        client_tls_context(str(pki.client_p12), password="not-it")
    assert "not-it" not in str(raised.value)
    with pytest.raises(CertificateError, match="cannot read"):
        client_tls_context(str(tmp_path / "missing.pfx"), password=P12_PASSWORD)


def test_the_send_job_loads_the_sellers_p12_from_its_settings(
    make_context,
    pki: Pki,
    https_standin: tuple[StandIn, str],  # type: ignore[no-untyped-def]
) -> None:
    standin, url = https_standin
    ctx: Context = make_context(
        plugins=("verifactu",),
        plugin_settings={
            "verifactu": {
                "endpoint_url": url,
                "certificate_path": str(pki.client_p12),
                "certificate_password": P12_PASSWORD,
                "ca_bundle": str(pki.ca_file),
            }
        },
    )
    paid = invoice(ctx, customer(ctx))
    report = send_pending(ctx)
    assert report.sent == 1 and report.outcomes == {"accepted": 1}
    assert [r.status for r in records(ctx)] == ["accepted"]
    assert [key[1] for key in standin.held] == [paid.number]
