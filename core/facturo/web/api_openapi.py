"""The OpenAPI 3 document of the REST API (served at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from facturo.models.documents import DOCUMENT_KINDS, DOCUMENT_STATES
from facturo.models.payments import PAYMENT_STATES
from facturo.models.services import SERVICE_STATES
from facturo.web.api_common import MAX_ID, MAX_PER_PAGE

MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}$"}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
NULL_ID = {"type": "integer", "nullable": True}
TEXT = {"type": "string"}
NULL_TEXT = {"type": "string", "nullable": True}


def _object(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": sorted(props), "properties": props}


SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "errors": {
                "type": "array",
                "minItems": 1,
                "items": _object({"code": TEXT, "detail": TEXT, "field": NULL_TEXT}),
            }
        }
    ),
    "Customer": _object(
        {
            "id": ID,
            "email": TEXT,
            "name": TEXT,
            "company": TEXT,
            "tax_id": TEXT,
            "country": TEXT,
            "language": TEXT,
            "credit_balance": MONEY,
            "disabled": {"type": "boolean"},
            "created_at": NULL_TEXT,
        }
    ),
    "Product": _object(
        {
            "id": ID,
            "code": TEXT,
            "name_es": TEXT,
            "name_en": TEXT,
            "parent_id": NULL_ID,
            "provisioner": NULL_TEXT,
            "tax_category": TEXT,
            "retired": {"type": "boolean"},
            "prices": {
                "type": "array",
                "items": _object(
                    {
                        "cycle": TEXT,
                        "months": {"type": "integer"},
                        "currency": TEXT,
                        "amount": MONEY,
                    }
                ),
            },
        }
    ),
    "Service": _object(
        {
            "id": ID,
            "customer_id": ID,
            "product_id": ID,
            "parent_id": NULL_ID,
            "status": {"type": "string", "enum": list(SERVICE_STATES)},
            "cycle": TEXT,
            "price": MONEY,
            "currency": TEXT,
            "next_due_date": {"type": "string", "format": "date", "nullable": True},
            "label": TEXT,
        }
    ),
    "Document": _object(
        {
            "id": ID,
            "kind": {"type": "string", "enum": list(DOCUMENT_KINDS)},
            "status": {"type": "string", "enum": list(DOCUMENT_STATES)},
            "reference": TEXT,
            "number": NULL_TEXT,
            "customer_id": ID,
            "currency": TEXT,
            "issue_date": {"type": "string", "format": "date"},
            "due_date": {"type": "string", "format": "date"},
            "subtotal": MONEY,
            "tax_total": MONEY,
            "total": MONEY,
            "amount_paid": MONEY,
            "refunded_total": MONEY,
            "refund_state": {
                "type": "string",
                "enum": ["refunded", "partly_refunded"],
                "nullable": True,
            },
            "corrects": {
                **_object({"id": ID, "number": NULL_TEXT}),
                "nullable": True,
                "description": "The invoice a credit note corrects (null otherwise).",
            },
            "credit_notes": {
                "type": "array",
                "description": "The credit notes that correct this invoice, oldest first.",
                "items": _object({"id": ID, "number": NULL_TEXT, "total": MONEY}),
            },
            "lines": {
                "type": "array",
                "items": _object(
                    {
                        "description": TEXT,
                        "quantity": TEXT,
                        "unit_price": MONEY,
                        "amount": MONEY,
                        "tax_rate": TEXT,
                    }
                ),
            },
        }
    ),
    "Payment": _object(
        {
            "id": ID,
            "document_id": NULL_ID,
            "customer_id": NULL_ID,
            "gateway": TEXT,
            "gateway_txn_id": TEXT,
            "amount": MONEY,
            "currency": TEXT,
            "status": {"type": "string", "enum": list(PAYMENT_STATES)},
            "review_reason": NULL_TEXT,
            "paid_at": NULL_TEXT,
            "value_date": {"type": "string", "format": "date", "nullable": True},
            "refunded": MONEY,
        }
    ),
    "NewPayment": {
        "type": "object",
        "required": ["document_id", "amount", "paid_on", "bank_reference"],
        "properties": {
            "document_id": ID,
            "amount": {"type": "string", "pattern": r"^\d{1,8}(\.\d{1,2})?$", "example": "149.00"},
            "paid_on": {"type": "string", "format": "date"},
            "bank_reference": {"type": "string", "minLength": 1, "maxLength": 128},
            "method": {
                "type": "string",
                "minLength": 1,
                "maxLength": 32,
                "description": "One of the enabled manual payment methods (e.g. a bank "
                "transfer); may be left out when only one is enabled",
            },
        },
    },
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "400": _json(_ref("Error"), "Bad parameters"),
    "401": _json(_ref("Error"), "Missing, unknown or revoked token"),
    "403": _json(_ref("Error"), "The token's scope does not allow this"),
}
NOT_FOUND = {"404": _json(_ref("Error"), "No such resource")}


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


PAGING = [
    _query("page", {"type": "integer", "minimum": 1, "maximum": 100000}),
    _query("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}),
    _query("after", {"type": "integer", "minimum": 0, "maximum": MAX_ID}),
]
ID_PARAM = {"name": "id", "in": "path", "required": True, "schema": ID}
DATE = {"type": "string", "format": "date"}


def _list(name: str, filters: list[dict[str, Any]], summary: str) -> dict[str, Any]:
    page = _object(
        {
            "data": {"type": "array", "items": _ref(name)},
            "page": {"type": "integer", "nullable": True},
            "per_page": {"type": "integer"},
            "total": {"type": "integer", "nullable": True},
            "next_after": {"type": "integer", "nullable": True},
        }
    )
    return {
        "get": {
            "summary": summary,
            "operationId": f"list{name}s",
            "parameters": PAGING + filters,
            "responses": {"200": _json(page, "One page"), **ERRORS},
        }
    }


def _one(name: str) -> dict[str, Any]:
    return {
        "get": {
            "summary": f"One {name.lower()}",
            "operationId": f"get{name}",
            "parameters": [ID_PARAM],
            "responses": {"200": _json(_ref(name), name), **ERRORS, **NOT_FOUND},
        }
    }


def openapi_document(base_url: str) -> dict[str, Any]:
    """The OpenAPI 3.0 document for the API served under ``base_url``/api/v1."""
    payments = _list(
        "Payment",
        [
            _query("status", {"type": "string", "enum": list(PAYMENT_STATES)}),
            _query("gateway", {"type": "string", "maxLength": 32}),
            _query("customer_id", ID),
            _query("document_id", ID),
        ],
        "Payments",
    )
    payments["post"] = {
        "summary": (
            "Record a payment checked by hand with a manual method such as a bank transfer "
            "(idempotent on bank_reference)"
        ),
        "operationId": "recordPayment",
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref("NewPayment")}},
        },
        "responses": {
            "201": _json(_ref("Payment"), "Recorded"),
            "200": _json(_ref("Payment"), "Already recorded with that bank reference"),
            **ERRORS,
            "422": _json(_ref("Error"), "Invalid payment"),
        },
    }
    pdf = {
        "get": {
            "summary": "The document's PDF",
            "operationId": "getDocumentPdf",
            "parameters": [ID_PARAM],
            "responses": {
                "200": {
                    "description": "PDF",
                    "content": {
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}}
                    },
                },
                **ERRORS,
                **NOT_FOUND,
                "409": _json(_ref("Error"), "No renderer"),
            },
        }
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Facturo API", "version": "1"},
        "servers": [{"url": f"{base_url}/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/customers": _list("Customer", [_query("q", {"type": "string"})], "Customers"),
            "/customers/{id}": _one("Customer"),
            "/products": _list(
                "Product",
                [_query("retired", {"type": "string", "enum": ["true", "false"]})],
                "Products",
            ),
            "/products/{id}": _one("Product"),
            "/services": _list(
                "Service",
                [
                    _query("customer_id", ID),
                    _query("status", {"type": "string", "enum": list(SERVICE_STATES)}),
                ],
                "Services",
            ),
            "/services/{id}": _one("Service"),
            "/documents": _list(
                "Document",
                [
                    _query("status", {"type": "string", "enum": list(DOCUMENT_STATES)}),
                    _query("kind", {"type": "string", "enum": list(DOCUMENT_KINDS)}),
                    _query("customer_id", ID),
                    _query("from", DATE),
                    _query("to", DATE),
                ],
                "Documents",
            ),
            "/documents/{id}": _one("Document"),
            "/documents/{id}/pdf": pdf,
            "/payments": payments,
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
