"""The signed enrollment token's claims against hostile values: times, sizes, shapes."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import ManualClock
from core.cronto import (
    REASONS,
    CrontoIssuer,
    CrontoVerifier,
)
from core.errors import CrontoRejected
from core.schema import cronto_jti
from core.store import Store
from tests import cronto_fixtures
from tests.cronto_fixtures import NPI

# The shared fixtures, by name (pytest finds a fixture among the module's names).
clock, store, issuer, verifier = (
    cronto_fixtures.clock,
    cronto_fixtures.store,
    cronto_fixtures.issuer,
    cronto_fixtures.verifier,
)


def signed(issuer: CrontoIssuer, body: dict[str, object]) -> str:
    from joserfc import jws

    raw = json.dumps(body, allow_nan=True).encode()
    return jws.serialize_compact({"alg": "Ed25519"}, raw, issuer._key, algorithms=["Ed25519"])


def good_body(clock: ManualClock, **changes: object) -> dict[str, object]:
    now = int(clock.time())
    body: dict[str, object] = {"iss": "clinic-it", "sub": "drsmith", "npi": NPI, "jti": "j-1", "iat": now}
    body["exp"] = now + 600
    body.update(changes)
    return body


def check_then_consume(verifier: CrontoVerifier, store: Store, token: str) -> str:
    """ "ok" or the refusal's reason; any other exception fails the test."""
    try:
        claims = verifier.check(token, "drsmith")
        with store.begin() as conn:
            verifier.consume(claims, conn)
    except CrontoRejected as exc:
        assert exc.reason in REASONS and exc.message and exc.hint
        return exc.reason
    return "ok"


HOSTILE_TIMES = [
    10**309,
    10**20,
    2**63,
    2**53 + 1,
    -1,
    -(10**309),
    "1750000600",
    "",
    True,
    False,
    None,
    1.75e9,
    float("inf"),
    float("nan"),
    [1750000600],
    {"t": 1750000600},
]


@pytest.mark.parametrize("claim", ["iat", "exp", "nbf"])
@pytest.mark.parametrize("value", HOSTILE_TIMES, ids=repr)
def test_every_hostile_time_claim_is_refused_with_a_reason(
    issuer: CrontoIssuer, verifier: CrontoVerifier, clock: ManualClock, store: Store, claim: str, value: object
) -> None:
    token = signed(issuer, good_body(clock, **{claim: value}))
    assert check_then_consume(verifier, store, token) == "not_our_format"


def test_exp_of_1e309_is_not_our_format(
    issuer: CrontoIssuer, verifier: CrontoVerifier, clock: ManualClock, store: Store
) -> None:
    raw = json.dumps(good_body(clock)).replace('"exp": ', '"exp": 1e309, "x": ').encode()
    from joserfc import jws

    token = jws.serialize_compact({"alg": "Ed25519"}, raw, issuer._key, algorithms=["Ed25519"])
    with pytest.raises(CrontoRejected) as err:
        verifier.check(token, "drsmith")
    assert err.value.reason == "not_our_format" and "exp" in err.value.message


def test_a_future_nbf_is_not_yet_valid_and_a_past_one_is_fine(
    issuer: CrontoIssuer, verifier: CrontoVerifier, clock: ManualClock, store: Store
) -> None:
    now = int(clock.time())
    assert check_then_consume(verifier, store, signed(issuer, good_body(clock, nbf=now + 300))) == "not_yet_valid"
    assert check_then_consume(verifier, store, signed(issuer, good_body(clock, nbf=now - 300))) == "ok"


@pytest.mark.parametrize(
    "changes",
    [
        {"sub": "x" * 65},
        {"sub": "drsmith\x1b[2J"},
        {"jti": "j\n2"},
        {"jti": "j" * 129},
        {"exp": 1_750_000_000 + 11 * 366 * 86400},
    ],
    ids=["long-sub", "escape-in-sub", "newline-in-jti", "long-jti", "eleven-years"],
)
def test_unbounded_or_unprintable_claims_are_not_our_format(
    issuer: CrontoIssuer, verifier: CrontoVerifier, clock: ManualClock, store: Store, changes: dict[str, object]
) -> None:
    assert check_then_consume(verifier, store, signed(issuer, good_body(clock, **changes))) == "not_our_format"


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "iat": _JSON_VALUES | st.integers(-(2**80), 2**80),
            "exp": _JSON_VALUES | st.integers(-(2**80), 2**80),
            "nbf": _JSON_VALUES | st.integers(-(2**80), 2**80),
            "sub": _JSON_VALUES,
            "jti": _JSON_VALUES | st.text(min_size=1, max_size=200),
        },
    )
)
def test_any_claim_shape_is_refused_with_a_reason_or_consumed(
    issuer: CrontoIssuer, verifier: CrontoVerifier, clock: ManualClock, store: Store, changes: dict[str, object]
) -> None:
    body = good_body(clock, jti=f"j-{len(str(changes))}")
    body.update(changes)
    if "jti" in changes:
        body["jti"] = changes["jti"]
    with store.begin() as conn:
        conn.execute(cronto_jti.delete())
    assert check_then_consume(verifier, store, signed(issuer, body)) in (*REASONS, "ok")
