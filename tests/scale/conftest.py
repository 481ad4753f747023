"""Scale-out tests: PostgreSQL, a Chroma server and Redis, as several API replicas share them.

The services come from ``scripts/scale_services.sh start`` (``make test-scale``, and ``make test``
in CI), which exports ``SHOPASSIST_TEST_DATABASE_URL``, ``SHOPASSIST_TEST_CHROMA_URL`` and
``SHOPASSIST_TEST_REDIS_URL``.  Without them every test here is skipped with that reason, so a plain
``pytest`` on a laptop passes; with them, a service that does not answer fails the tests.

Each test module gets databases and Chroma collections of its own (uniquely named, dropped after).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
# read once at import: the autouse `_isolated_env` fixture hides SHOPASSIST_* variables from tests
DATABASE_URL = os.environ.get("SHOPASSIST_TEST_DATABASE_URL", "")
CHROMA_URL = os.environ.get("SHOPASSIST_TEST_CHROMA_URL", "")
REDIS_URL = os.environ.get("SHOPASSIST_TEST_REDIS_URL", "")
_MISSING = [
    name
    for name, value in (
        ("SHOPASSIST_TEST_DATABASE_URL", DATABASE_URL),
        ("SHOPASSIST_TEST_CHROMA_URL", CHROMA_URL),
        ("SHOPASSIST_TEST_REDIS_URL", REDIS_URL),
    )
    if not value
]
SKIP_REASON = (
    f"scale-out services not configured ({', '.join(_MISSING)} unset): "
    "`make test-scale` starts PostgreSQL, Redis and a Chroma server and sets them"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scale: PostgreSQL + Chroma server + Redis (make test-scale)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.scale)
            if _MISSING:
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the configured server; dropped (connections and all) after."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    base = make_url(DATABASE_URL)
    name = unique_name("shopassist_t")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.fail(f"PostgreSQL at {base.render_as_string()} does not answer: {exc.orig}")
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def chroma_client() -> Any:
    from retrieval import open_chroma_client

    return open_chroma_client(path=None, url=CHROMA_URL)


@contextmanager
def fresh_collection() -> Iterator[str]:
    """A collection name of its own on the Chroma server (its text and image collections dropped after)."""
    name = unique_name("products")
    try:
        yield name
    finally:
        client = chroma_client()
        for coll in (name, f"{name}_images"):
            with suppress(Exception):  # never created (a test failed early): nothing to drop
                client.delete_collection(coll)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="module")
def chroma_collection() -> Iterator[str]:
    with fresh_collection() as name:
        yield name
