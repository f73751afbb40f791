"""The SMTP pool upgrades to TLS (STARTTLS) when told, against a sink that requires it."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from clarion.delivery.messenger import DeliveryResult, Outgoing
from clarion.delivery.sink import RecordingHandler, start_sink
from clarion.delivery.smtp import SmtpPool

from delivery_world import smtp_for

MESSAGE = b"From: a@example.com\r\nTo: b@example.org\r\nSubject: Hi\r\n\r\nHello\r\n"


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, signed by its own key, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "clarion test sink")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "sink.crt", folder / "sink.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def tls_sink(tmp_path: Path) -> Iterator[tuple[RecordingHandler, int, Path]]:
    cert_file, key_file = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    handler = RecordingHandler(keep=True)
    controller = start_sink(handler, tls_context=context)
    yield handler, controller.port, cert_file
    controller.stop()


def _send(port: int, **settings: object) -> DeliveryResult:
    async def go() -> DeliveryResult:
        pool = SmtpPool(smtp_for(port, **settings))
        try:
            (result,) = await pool.send_batch([Outgoing("msg_tls", "b@example.org", MESSAGE)])
        finally:
            await pool.close()
        return result

    return asyncio.run(go())


def test_the_pool_sends_over_starttls_trusting_the_configured_certificate(
    tls_sink: tuple[RecordingHandler, int, Path],
) -> None:
    handler, port, cert_file = tls_sink
    result = _send(port, starttls=True, tls_ca_file=cert_file)
    assert result.accepted, result.detail
    assert [r.recipients for r in handler.received] == [["b@example.org"]]


def test_without_starttls_a_server_that_requires_it_refuses_for_good(
    tls_sink: tuple[RecordingHandler, int, Path],
) -> None:
    handler, port, _ = tls_sink
    result = _send(port, starttls=False)
    assert not result.accepted and result.permanent
    assert result.detail is not None and result.detail.startswith("530")
    assert handler.received == []


def test_an_untrusted_certificate_is_not_sent_to(
    tls_sink: tuple[RecordingHandler, int, Path],
) -> None:
    handler, port, _ = tls_sink
    result = _send(port, starttls=True)
    assert not result.accepted and not result.permanent
    assert result.detail is not None and "CERTIFICATE" in result.detail.upper()
    assert handler.received == []
