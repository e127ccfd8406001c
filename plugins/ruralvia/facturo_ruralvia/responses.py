"""What a ``Ds_Response`` code or a ``SIS`` error code means, in Spanish and English."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ResponseKind",
    "ResponseText",
    "classify_response",
    "describe_error",
    "describe_response",
    "is_payment_approved",
    "is_refund_approved",
]


class ResponseKind(StrEnum):
    """The families of ``Ds_Response`` codes."""

    AUTHORISED = "authorised"  # 0000-0099: payments and pre-authorisations
    REFUND_OR_CONFIRMATION = "refund_or_confirmation"  # 0900
    CANCELLATION = "cancellation"  # 0400
    DENIED = "denied"  # anything else


@dataclass(frozen=True)
class ResponseText:
    """A code and its meaning in both languages of the client area."""

    code: str
    es: str
    en: str

    def text(self, language: str) -> str:
        """The meaning in ``language`` ("es" or anything else for English)."""
        return self.es if language.lower().startswith("es") else self.en


_RESPONSES: dict[int, tuple[str, str]] = {
    400: ("Anulación autorizada", "Cancellation authorised"),
    900: ("Devolución o confirmación autorizada", "Refund or confirmation authorised"),
    101: ("Tarjeta caducada", "Expired card"),
    102: (
        "Tarjeta bloqueada temporalmente o bajo sospecha de fraude",
        "Card temporarily blocked or suspected of fraud",
    ),
    104: ("Operación no permitida para esta tarjeta", "Operation not allowed for this card"),
    106: ("Intentos de PIN excedidos", "Too many PIN attempts"),
    116: ("Saldo insuficiente", "Insufficient funds"),
    118: ("Tarjeta no registrada", "Card not registered"),
    125: ("Tarjeta no operativa", "Card not active"),
    129: ("Código de seguridad (CVV2/CVC2) incorrecto", "Wrong security code (CVV2/CVC2)"),
    180: ("Tarjeta no admitida por el servicio", "Card not accepted by the service"),
    184: ("Error en la autenticación del titular", "Cardholder authentication failed"),
    190: ("Denegada por el emisor sin indicar motivo", "Declined by the issuer, no reason given"),
    191: ("Fecha de caducidad errónea", "Wrong expiry date"),
    195: ("Se requiere autenticación reforzada (SCA)", "Strong customer authentication required"),
    202: (
        "Tarjeta bloqueada por sospecha de fraude, con retirada",
        "Card blocked for suspected fraud, to be withheld",
    ),
    904: ("Comercio no registrado en el FUC", "Merchant not registered (FUC)"),
    909: ("Error del sistema", "System error"),
    912: ("Emisor no disponible", "Issuer not available"),
    913: ("Pedido repetido", "Duplicate order number"),
    944: ("Sesión incorrecta", "Invalid session"),
    950: ("Devolución no permitida", "Refund not allowed"),
    9064: ("Número de dígitos de la tarjeta incorrecto", "Wrong number of card digits"),
    9078: (
        "Tipo de operación no permitido para esta tarjeta",
        "Operation not allowed for this card",
    ),
    9093: ("Tarjeta inexistente", "Card does not exist"),
    9094: ("Rechazada por los servidores internacionales", "Declined by international servers"),
    9104: (
        "El comercio exige compra segura y el titular no tiene clave",
        "Secure purchase required and the cardholder has no secure key",
    ),
    9218: (
        "El comercio no admite operaciones seguras",
        "Merchant does not allow secure operations",
    ),
    9253: ("La tarjeta no supera el dígito de control", "Card number fails the check digit"),
    9256: ("El comercio no puede hacer preautorizaciones", "Merchant cannot pre-authorise"),
    9257: ("La tarjeta no admite preautorizaciones", "Card does not allow pre-authorisations"),
    9261: (
        "Operación detenida por los controles de restricción del SIS",
        "Stopped by the SIS restriction controls",
    ),
    9912: ("Emisor no disponible", "Issuer not available"),
    9915: ("Pago cancelado por el usuario", "Payment cancelled by the customer"),
    9997: (
        "Otra operación con la misma tarjeta está en curso",
        "Another transaction with the same card is in progress",
    ),
    9998: ("Operación en curso: pidiendo datos de la tarjeta", "In progress: requesting card data"),
    9999: ("Operación en curso: autenticación en el emisor", "In progress: issuer authentication"),
}

_SIS_ERRORS: dict[str, tuple[str, str]] = {
    "SIS0007": ("Mensaje de petición incorrecto", "Malformed request message"),
    "SIS0026": ("Comercio o terminal inexistente", "Unknown merchant or terminal"),
    "SIS0042": ("Error en el cálculo de la firma", "Signature calculation error"),
    "SIS0051": ("Número de pedido repetido", "Duplicate order number"),
    "SIS0054": (
        "No existe la operación sobre la que hacer la devolución",
        "No operation to refund",
    ),
    "SIS0055": (
        "Hay más de un pago con el mismo número de pedido",
        "Several payments share the order",
    ),
    "SIS0056": (
        "La operación que se quiere devolver no está autorizada",
        "The operation to refund was not authorised",
    ),
    "SIS0057": (
        "El importe a devolver supera el permitido",
        "Refund amount exceeds what is allowed",
    ),
}


def _code_number(code: str | int) -> int:
    try:
        return int(str(code).strip())
    except ValueError as exc:
        raise ValueError(f"Ds_Response {code!r} is not a number") from exc


def classify_response(code: str | int) -> ResponseKind:
    """Classify a ``Ds_Response`` code (parsed as an integer, so ``"0000"`` == ``0``)."""
    number = _code_number(code)
    if 0 <= number <= 99:
        return ResponseKind.AUTHORISED
    if number == 900:
        return ResponseKind.REFUND_OR_CONFIRMATION
    if number == 400:
        return ResponseKind.CANCELLATION
    return ResponseKind.DENIED


def is_payment_approved(code: str | int, transaction_type: str | int = "0") -> bool:
    """Return whether a notification means "paid": transaction type 0 and code 0000-0099."""
    if str(transaction_type).strip() != "0":
        return False
    try:
        return classify_response(code) is ResponseKind.AUTHORISED
    except ValueError:
        return False


def is_refund_approved(code: str | int, transaction_type: str | int = "3") -> bool:
    """Return whether a REST answer means "refunded": transaction type 3 and code 0900."""
    if str(transaction_type).strip() != "3":
        return False
    try:
        return classify_response(code) is ResponseKind.REFUND_OR_CONFIRMATION
    except ValueError:
        return False


def describe_response(code: str | int) -> ResponseText:
    """Return the meaning of a ``Ds_Response`` code; unknown denials get a generic text."""
    text = str(code).strip()
    try:
        number = _code_number(text)
    except ValueError:
        return ResponseText(text, f"Respuesta no válida ({text})", f"Invalid response ({text})")
    if 0 <= number <= 99:
        return ResponseText(text, "Operación autorizada", "Transaction authorised")
    known = _RESPONSES.get(number)
    if known is not None:
        return ResponseText(text, *known)
    return ResponseText(
        text, f"Operación denegada (código {text})", f"Transaction declined (code {text})"
    )


def describe_error(code: str) -> ResponseText:
    """Return the meaning of a ``SISxxxx`` error code answered by the REST endpoint."""
    known = _SIS_ERRORS.get(code.strip().upper())
    if known is not None:
        return ResponseText(code, *known)
    return ResponseText(code, f"Error de Redsys {code}", f"Redsys error {code}")
