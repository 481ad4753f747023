"""Schema-driven fuzzing of every operation of the OpenAPI document (schemathesis over ASGI):
whatever a client sends, the service never answers 5xx, and every 4xx is the error envelope
``{"error": {"code", "message"}}`` the widget and the docs promise.

The schema is read from an app built at import time without a runtime (``create_app`` makes the
runtime only at start-up, and ``openapi()`` needs none); the module's real runtime (the catalog
slice, the test session's NLU model) is put into that app before the first call.  Ids that exist
(a session with a cart and an order, a product, a staff turn) replace the generated path parameters
in part of the examples, so the fuzzer also reaches the code behind the 404s, and staff routes get
a valid admin key (their 401s are generated too, by the cases that drop or garble the header).
No operation is left out: uploads, the SSE stream, /metrics and erasure are all fuzzed.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from tests.reliability.conftest import ADDRESS, XSS_ID, assert_envelope, auth, catalog_ids, rel_settings

# The runtime is attached by the ``wired`` fixture; the data dir of these settings is never opened.
APP = create_app(rel_settings(Path(tempfile.gettempdir()) / "shopassist-fuzz-unused"))
schema = schemathesis.openapi.from_dict(APP.openapi())

FUZZ = settings(
    max_examples=12,  # per operation, besides schemathesis's coverage cases: about 20 s for all of them
    deadline=None,
    database=None,  # no .hypothesis folder; every run draws afresh
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def wired(rel_runtime: Any, rel_app: Any) -> Iterator[dict[str, str]]:
    """Attach the folder's runtime to the fuzzed app and make ids that exist."""
    from assistant.staff import create_key

    APP.state.runtime = rel_runtime
    APP.state.settings = rel_runtime.settings
    with rel_runtime.db.session() as s:
        admin_key, _ = create_key(s, role="admin", name="fuzz")
    with TestClient(rel_app) as c:
        turn = c.post("/v1/chat", json={"session_id": None, "message": "show me black backpacks"}).json()
        sid = turn["session_id"]
        pid = catalog_ids(1)[0]
        assert c.post(f"/v1/sessions/{sid}/cart/items", json={"product_id": pid}).status_code == 200
        order = c.post(
            "/v1/orders",
            json={"session_id": sid, "email": "fuzz@example.com", "shipping_address": ADDRESS},
            headers={"Idempotency-Key": "fuzz-order-1"},
        )
        assert order.status_code == 201, order.text
        assert c.post(f"/v1/sessions/{sid}/cart/items", json={"product_id": XSS_ID}).status_code == 200
    yield {
        "session_id": sid,
        "product_id": pid,
        "turn_id": turn["turn_id"],
        "order_id": order.json()["id"],
        "admin_key": admin_key,
    }
    APP.state.runtime = None


def _known(case: Any, ids: dict[str, str], rng: random.Random) -> None:
    """Swap generated ids for existing ones in about half of the examples."""
    params = case.path_parameters or {}
    for name in list(params):
        if name in ids and rng.random() < 0.5:
            params[name] = ids[name]
    if isinstance(case.query, dict) and "session_id" in case.query and rng.random() < 0.5:
        case.query["session_id"] = ids["session_id"]


@schema.parametrize()
@FUZZ
def test_no_server_errors_and_every_4xx_is_the_envelope(case: Any, wired: dict[str, str]) -> None:
    rng = random.Random()
    _known(case, wired, rng)
    headers = {}
    if case.path.startswith("/v1/staff"):
        # a valid admin key reaches the handlers behind authentication (staff routes accept it too)
        headers.update(auth(wired["admin_key"]))
    if case.operation.method.upper() == "DELETE" and case.path == "/v1/sessions/{session_id}":
        # erasing the shared session would leave later examples nothing to find: erase a fresh one
        fresh = APP.state.runtime.assistant.start_session()
        if (case.path_parameters or {}).get("session_id") == wired["session_id"]:
            case.path_parameters["session_id"] = fresh
    response = case.call(app=APP, headers=headers)
    where = f"{case.operation.method.upper()} {case.formatted_path} -> {response.status_code}"
    assert response.status_code < 500, f"{where}: {response.text[:500]}"
    if 400 <= response.status_code < 500:
        try:
            assert_envelope(response)
        except (AssertionError, ValueError) as exc:
            raise AssertionError(f"{where}: not the error envelope: {response.text[:500]}") from exc
    elif response.status_code < 300:
        # what a client was promised: a 2xx body matches the documented response schema
        case.validate_response(response, checks=[response_schema_conformance])
