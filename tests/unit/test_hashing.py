"""The production argon2 parameters, and the dummy hash an unknown username is checked against."""

from __future__ import annotations

from argon2 import Type, extract_parameters

from core import hashing


def test_production_parameters_are_owasp_argon2id_minimum() -> None:
    params = hashing.PRODUCTION.hasher
    assert (params.time_cost, params.memory_cost, params.parallelism) == (2, 19 * 1024, 1)
    assert params.type is Type.ID


def test_the_dummy_hash_costs_what_a_real_hash_costs() -> None:
    """An unknown username is checked against the dummy: same parameters, same time."""
    real = extract_parameters(hashing.PRODUCTION.hash("a long password"))
    assert extract_parameters(hashing.PRODUCTION.dummy) == real


def test_the_suite_runs_with_the_fast_hasher_and_it_keeps_its_own_dummy(fast_hashing: hashing.SecretHasher) -> None:
    stored = hashing.hash_secret("a long password")
    assert extract_parameters(stored) == extract_parameters(fast_hashing.dummy)
    assert extract_parameters(stored).memory_cost < hashing.PRODUCTION_MEMORY_KIB
    assert hashing.check_secret(stored, "a long password")
    assert not hashing.check_secret(stored, "another password")
    assert not hashing.check_secret(None, "not-a-real-password")
