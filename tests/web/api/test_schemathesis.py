"""schemathesis against the live API: no 5xx and every response inside the schema."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings

from facturo.context import Context
from facturo.testing import make_catalog, make_customer
from tests.web.api.test_api import make_token
from tests.web.conftest import new_proforma

EXAMPLES_PER_OPERATION = 15
# Business refusals (an unknown document, a future date) are documented 4xx answers, so the
# "schema-valid request accepted" check does not apply; everything else does.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


def test_api_conforms_to_its_openapi_document(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context()
    url = serve(ctx)
    make_catalog(ctx)
    new_proforma(ctx, make_customer(ctx))
    token = make_token(ctx, "read-write")
    document = httpx.get(f"{url}/api/v1/openapi.json").json()
    document["servers"] = [{"url": f"{url}/api/v1"}]
    schema = schemathesis.openapi.from_dict(document)
    headers = {"Authorization": f"Bearer {token}"}
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=f"{url}/api/v1", headers=headers, checks=CHECKS)

        run()
        checked += 1
    assert checked == 11
