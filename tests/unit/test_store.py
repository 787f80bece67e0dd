"""The store's schema on both databases: a version-1 store gains the throttle table when opened."""

from __future__ import annotations

from sqlalchemy import inspect, text

from core.schema import SCHEMA_VERSION
from core.store import Store


def test_a_version_one_store_is_upgraded_in_place(store: Store) -> None:
    with store.begin() as conn:
        conn.execute(text("drop table signin_throttle"))
        conn.execute(text("update schema_version set version = 1"))
    reopened = Store(store.url)
    try:
        assert "signin_throttle" in inspect(reopened.engine).get_table_names()
        with reopened.connect() as conn:
            versions = conn.execute(text("select version from schema_version order by version")).scalars().all()
        assert versions == [1, SCHEMA_VERSION]
    finally:
        reopened.dispose()
