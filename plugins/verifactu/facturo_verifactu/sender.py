"""Send VERI*FACTU records to the AEAT, query what it holds, and classify what came back.

The functions take an httpx client built by the caller. The AEAT authenticates by mutual TLS
with a qualified certificate (a PKCS#12 ``.p12``/``.pfx`` file and its password, or PEM files),
so the caller configures the client with it::

    httpx.Client(verify=client_tls_context("empresa.p12", password=...), timeout=60.0)

Nothing here keeps state or sleeps: the caller stores the outcomes, and waits
``wait_seconds`` (TiempoEsperaEnvio) before the next submission unless 1 000 records are
already pending.
"""

from __future__ import annotations

import enum
import os
import secrets
import ssl
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx

from .query import HeldRecord, PageKey, build_query, parse_query_answer
from .records import Record
from .xml import (
    MAX_RECORDS,
    SchemaValidationError,
    SoapFault,
    SubmissionResponse,
    build_submission,
    parse_response,
    record_key,
    soap_wrap,
    validate_submission,
)

ENDPOINT_TEST = "https://prewww1.aeat.es/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP"
ENDPOINT_PRODUCTION = (
    "https://www1.agenciatributaria.gob.es/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP"
)
# Hosts for a seal certificate (certificado de sello), as the AEAT WSDL lists them.
ENDPOINT_TEST_SEAL = "https://prewww10.aeat.es/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP"
ENDPOINT_PRODUCTION_SEAL = (
    "https://www10.agenciatributaria.gob.es/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP"
)

HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
RETRYABLE_HTTP = frozenset((408, 429, 500, 502, 503, 504))


class CertificateError(ValueError):
    """The client certificate cannot be loaded (missing file, wrong password, no key)."""


PKCS12_SUFFIXES = (".p12", ".pfx")


def client_tls_context(
    certfile: str,
    keyfile: str | None = None,
    password: str | None = None,
    cafile: str | None = None,
) -> ssl.SSLContext:
    """Return a verifying TLS context presenting the client certificate, for the AEAT's
    mutual TLS. Pass it as ``verify=`` to ``httpx.Client``/``httpx.AsyncClient``.

    ``certfile`` is a PKCS#12 file (``.p12``/``.pfx``, as the FNMT and other issuers deliver
    them, opened with ``password``) or a PEM certificate chain (with ``keyfile`` when the key
    is apart). The server is verified against ``cafile`` when given, else httpx's CA bundle.
    Raises CertificateError with a message that never contains the password.
    """
    context = ssl.create_default_context(cafile=cafile) if cafile else httpx.create_ssl_context()
    if certfile.lower().endswith(PKCS12_SUFFIXES):
        _load_pkcs12(context, Path(certfile), password)
        return context
    try:
        context.load_cert_chain(certfile, keyfile, password)
    except (OSError, ssl.SSLError) as exc:
        raise CertificateError(f"cannot load the certificate {certfile}: {exc}") from exc
    return context


def _load_pkcs12(context: ssl.SSLContext, path: Path, password: str | None) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(
            path.read_bytes(), password.encode("utf-8") if password else None
        )
    except OSError as exc:
        raise CertificateError(f"cannot read the certificate {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise CertificateError(f"cannot open {path}: wrong password or not PKCS#12") from exc
    if key is None or certificate is None:
        raise CertificateError(f"{path} holds no private key and certificate")
    pem = serialization.Encoding.PEM
    # ssl loads a certificate only from a file: write key and chain to a private temporary
    # file, the key encrypted with a one-time passphrase, load it and delete it at once.
    once = secrets.token_urlsafe(32).encode("ascii")
    key_pem = key.private_bytes(
        pem,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(once),
    )
    chain_pem = certificate.public_bytes(pem) + b"".join(c.public_bytes(pem) for c in chain)
    handle, name = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(key_pem + chain_pem)
        context.load_cert_chain(name, password=once)
    except ssl.SSLError as exc:
        raise CertificateError(f"cannot use the certificate in {path}: {exc}") from exc
    finally:
        os.unlink(name)


def endpoint(production: bool, *, seal_certificate: bool = False) -> str:
    """Return the AEAT VERI*FACTU SOAP address for the environment and certificate kind."""
    if seal_certificate:
        return ENDPOINT_PRODUCTION_SEAL if production else ENDPOINT_TEST_SEAL
    return ENDPOINT_PRODUCTION if production else ENDPOINT_TEST


class Outcome(enum.Enum):
    """What to do with a record after a submission."""

    ACCEPTED = "accepted"  # Correcto: done
    ACCEPTED_WITH_ERRORS = "accepted_with_errors"  # registered; fix with a subsanación
    REJECTED = "rejected"  # Incorrecto or a malformed request: final, re-send corrected
    RETRY = "retry"  # not processed (network, 5xx, Server fault): send again unchanged

    @property
    def final(self) -> bool:
        """Return True unless the record must be sent again unchanged."""
        return self is not Outcome.RETRY


@dataclass(frozen=True)
class RecordOutcome:
    """The result for one record: ``key`` is (NIF, number, dd-mm-yyyy date, Alta|Anulacion)."""

    record: Record
    outcome: Outcome
    error_code: int | None = None
    error_description: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Return the record's identifying key (see :func:`facturo_verifactu.xml.record_key`)."""
        return record_key(self.record)


@dataclass(frozen=True)
class BatchResult:
    """The result of one submission.

    ``wait_seconds`` is the TiempoEsperaEnvio answered, or None when no answer was parsed;
    ``error`` describes a failure of the whole request (transport, HTTP status, SOAP fault).
    """

    outcomes: tuple[RecordOutcome, ...]
    wait_seconds: int | None
    csv: str | None = None
    status: str | None = None
    error: str | None = None

    @property
    def retryable(self) -> bool:
        """Return True if any record must be sent again unchanged."""
        return any(item.outcome is Outcome.RETRY for item in self.outcomes)


def batches(records: Sequence[Record], size: int = MAX_RECORDS) -> Iterator[Sequence[Record]]:
    """Yield consecutive slices of at most ``size`` (≤ 1 000) records, keeping chain order."""
    if not 1 <= size <= MAX_RECORDS:
        raise ValueError(f"batch size must be 1 to {MAX_RECORDS}")
    for start in range(0, len(records), size):
        yield records[start : start + size]


def build_request(
    issuer_name: str,
    issuer_nif: str,
    records: Sequence[Record],
    *,
    incident: bool = False,
    end_date: date | None = None,
) -> bytes:
    """Return the SOAP request for 1 to 1 000 records, validated against the AEAT XSDs.

    Raises ValueError for a bad batch size and SchemaValidationError for an invalid document;
    both are programming or data errors, never worth a retry.
    """
    payload = build_submission(
        issuer_name, issuer_nif, records, incident=incident, end_date=end_date
    )
    validate_submission(payload)
    return soap_wrap(payload)


def _all(records: Sequence[Record], outcome: Outcome, error: str) -> BatchResult:
    return BatchResult(
        outcomes=tuple(RecordOutcome(r, outcome, None, error) for r in records),
        wait_seconds=None,
        error=error,
    )


def interpret(records: Sequence[Record], status_code: int, body: bytes) -> BatchResult:
    """Classify an HTTP answer to a submission of ``records`` into per-record outcomes.

    - a parsed answer: Correcto → ACCEPTED, AceptadoConErrores → ACCEPTED_WITH_ERRORS,
      Incorrecto → REJECTED; a record the answer does not mention → RETRY;
    - a ``Server`` SOAP fault, HTTP 408/429/5xx without a valid answer → RETRY for all;
    - a ``Client`` SOAP fault or any other unusable answer → REJECTED for all.
    """
    try:
        response = parse_response(body)
    except SoapFault as fault:
        outcome = Outcome.RETRY if fault.is_server else Outcome.REJECTED
        return _all(records, outcome, f"SOAP fault {fault} (HTTP {status_code})")
    except SchemaValidationError as exc:
        outcome = Outcome.RETRY if status_code in RETRYABLE_HTTP else Outcome.REJECTED
        return _all(records, outcome, f"HTTP {status_code}: unusable answer: {exc}")
    return _match(records, response)


def _match(records: Sequence[Record], response: SubmissionResponse) -> BatchResult:
    by_key = {line.key: line for line in response.lines}
    verdicts = {
        "Correcto": Outcome.ACCEPTED,
        "AceptadoConErrores": Outcome.ACCEPTED_WITH_ERRORS,
        "Incorrecto": Outcome.REJECTED,
    }
    outcomes = []
    for record in records:
        line = by_key.get(record_key(record))
        if line is None:
            outcomes.append(RecordOutcome(record, Outcome.RETRY, None, "not in the AEAT answer"))
            continue
        outcomes.append(
            RecordOutcome(
                record,
                verdicts.get(line.status, Outcome.REJECTED),
                line.error_code,
                line.error_description,
            )
        )
    return BatchResult(
        outcomes=tuple(outcomes),
        wait_seconds=response.wait_seconds,
        csv=response.csv,
        status=response.status,
    )


def send_batch(
    client: httpx.Client,
    url: str,
    issuer_name: str,
    issuer_nif: str,
    records: Sequence[Record],
    *,
    incident: bool = False,
    end_date: date | None = None,
) -> BatchResult:
    """POST one batch (1 to 1 000 records) to ``url`` and return the classified result.

    ``client`` carries the mutual-TLS certificate and timeouts. Transport errors (connect,
    timeout, TLS) become RETRY for every record; they are never raised.
    """
    request = build_request(issuer_name, issuer_nif, records, incident=incident, end_date=end_date)
    try:
        answer = client.post(url, content=request, headers=HEADERS)
    except httpx.TransportError as exc:
        return _all(records, Outcome.RETRY, f"transport error: {exc!r}")
    return interpret(records, answer.status_code, answer.content)


async def send_batch_async(
    client: httpx.AsyncClient,
    url: str,
    issuer_name: str,
    issuer_nif: str,
    records: Sequence[Record],
    *,
    incident: bool = False,
) -> BatchResult:
    """Do what :func:`send_batch` does over an ``httpx.AsyncClient``."""
    request = build_request(issuer_name, issuer_nif, records, incident=incident)
    try:
        answer = await client.post(url, content=request, headers=HEADERS)
    except httpx.TransportError as exc:
        return _all(records, Outcome.RETRY, f"transport error: {exc!r}")
    return interpret(records, answer.status_code, answer.content)


class QueryError(Exception):
    """The AEAT query service could not answer (transport, HTTP, SOAP fault, bad answer)."""


MAX_PAGES = 1000


def query_period(
    client: httpx.Client, url: str, issuer_name: str, issuer_nif: str, year: int, month: int
) -> list[HeldRecord]:
    """Every record the AEAT holds for ``issuer_nif`` in ``year``/``month``, following the
    pagination (ClavePaginacion) to the end. Raises QueryError when an answer is unusable."""
    found: list[HeldRecord] = []
    after: PageKey | None = None
    for _page in range(MAX_PAGES):
        request = soap_wrap(build_query(issuer_name, issuer_nif, year, month, after))
        try:
            answer = client.post(url, content=request, headers=HEADERS)
        except httpx.TransportError as exc:
            raise QueryError(f"transport error: {exc!r}") from exc
        try:
            page = parse_query_answer(answer.content)
        except SoapFault as fault:
            raise QueryError(f"SOAP fault {fault} (HTTP {answer.status_code})") from fault
        except SchemaValidationError as exc:
            raise QueryError(f"HTTP {answer.status_code}: unusable answer: {exc}") from exc
        found.extend(page.records)
        if not page.more or page.next_key is None:
            return found
        after = page.next_key
    raise QueryError(f"more than {MAX_PAGES} pages")
