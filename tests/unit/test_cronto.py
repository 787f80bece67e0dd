"""The signed enrollment token: every refusal reason, single use, and no token text in errors."""

from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.clock import ManualClock
from core.cronto import (
    REASONS,
    CrontoIssuer,
    CrontoVerifier,
    EnrollmentClaims,
    make_image,
    token_ref,
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

DAY = timedelta(days=1)


def reason_of(verifier: CrontoVerifier, payload: str, user: str = "drsmith") -> str:
    with pytest.raises(CrontoRejected) as err:
        verifier.check(payload, user)
    exc = err.value
    assert exc.message and exc.hint
    # The token is a bearer credential until used: no part of its signature may leak.
    signature = payload.split(".")[-1]
    if len(signature) >= 8:
        assert signature[:16] not in str(exc)
    return exc.reason


def b64(doc: dict[str, object]) -> str:
    raw = json.dumps(doc).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_fresh_token_verifies_to_its_claims(
    issuer: CrontoIssuer, verifier: CrontoVerifier, clock: ManualClock
) -> None:
    token = issuer.make_token("drsmith", NPI, DAY, clock)
    assert token.isascii() and token.count(".") == 2
    claims = verifier.verify(token, "drsmith")
    assert isinstance(claims, EnrollmentClaims)
    assert (claims.iss, claims.sub, claims.npi) == ("clinic-it", "drsmith", NPI)
    assert claims.exp - claims.iat == 86400
    assert claims.iat == int(clock.time())
    assert len(claims.jti) >= 16


def test_the_header_names_the_ed25519_algorithm(issuer: CrontoIssuer, clock: ManualClock) -> None:
    token = issuer.make_token("drsmith", NPI, DAY, clock)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == "Ed25519"


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "https://example.com/not-a-token",
        "WIFI:S:clinic;T:WPA;P:secret;;",
        "a.b.c",
        "a.b.c.d",
        "ééé.ééé.ééé",  # not ASCII
        "x" * 5000,
        b64({"alg": "HS256"}) + "." + b64({"iss": "clinic-it"}) + ".c2ln",  # not our algorithm
        b64({"alg": "none"}) + "." + b64({"iss": "clinic-it"}) + ".",
        b64({"alg": "Ed25519"}) + "." + base64.urlsafe_b64encode(b"[1,2]").decode() + ".c2ln",
    ],
)
def test_not_our_format(verifier: CrontoVerifier, payload: str) -> None:
    assert reason_of(verifier, payload) == "not_our_format"


def test_a_signed_token_with_an_invalid_npi_is_not_our_format(
    issuer: CrontoIssuer, verifier: CrontoVerifier, clock: ManualClock
) -> None:
    token = issuer.make_token("drsmith", "1234567890", DAY, clock)  # check digit wrong
    with pytest.raises(CrontoRejected) as err:
        verifier.check(token, "drsmith")
    assert err.value.reason == "not_our_format"
    assert "NPI" in err.value.message


def test_a_signed_token_missing_a_claim_is_not_our_format(issuer: CrontoIssuer, verifier: CrontoVerifier) -> None:
    from joserfc import jws

    body = json.dumps({"iss": "clinic-it", "sub": "drsmith", "npi": NPI, "iat": 1}).encode()
    token = jws.serialize_compact({"alg": "Ed25519"}, body, issuer._key, algorithms=["Ed25519"])
    assert reason_of(verifier, token) == "not_our_format"


def test_bad_signature_when_the_payload_was_edited(
    issuer: CrontoIssuer, verifier: CrontoVerifier, clock: ManualClock
) -> None:
    token = issuer.make_token("drsmith", NPI, DAY, clock)
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["sub"] = "drjones"
    assert reason_of(verifier, f"{head}.{b64(claims)}.{sig}", "drjones") == "bad_signature"


def test_bad_signature_when_signed_by_another_key_under_our_name(verifier: CrontoVerifier, clock: ManualClock) -> None:
    impostor = CrontoIssuer.generate("clinic-it")
    token = impostor.make_token("drsmith", NPI, DAY, clock)
    assert reason_of(verifier, token) == "bad_signature"


def test_unknown_issuer(verifier: CrontoVerifier, clock: ManualClock) -> None:
    other = CrontoIssuer.generate("someone-else")
    assert reason_of(verifier, other.make_token("drsmith", NPI, DAY, clock)) == "unknown_issuer"


def test_expired(issuer: CrontoIssuer, verifier: CrontoVerifier, clock: ManualClock) -> None:
    token = issuer.make_token("drsmith", NPI, timedelta(hours=1), clock)
    clock.advance(3600)
    assert reason_of(verifier, token) == "expired"


def test_not_yet_valid_beyond_the_clock_leeway(
    issuer: CrontoIssuer, verifier: CrontoVerifier, clock: ManualClock
) -> None:
    ahead = issuer.make_token("drsmith", NPI, DAY, clock, issued_at=clock.time() + 30)
    assert verifier.check(ahead, "drsmith").sub == "drsmith"  # small skew tolerated
    future = issuer.make_token("drsmith", NPI, DAY, clock, issued_at=clock.time() + 3600)
    assert reason_of(verifier, future) == "not_yet_valid"


def test_other_user(issuer: CrontoIssuer, verifier: CrontoVerifier, clock: ManualClock) -> None:
    token = issuer.make_token("drsmith", NPI, DAY, clock)
    assert reason_of(verifier, token, "drjones") == "other_user"


def test_already_used(issuer: CrontoIssuer, verifier: CrontoVerifier, clock: ManualClock) -> None:
    token = issuer.make_token("drsmith", NPI, DAY, clock)
    verifier.verify(token, "drsmith")
    assert reason_of(verifier, token) == "already_used"
    with pytest.raises(CrontoRejected) as err:
        verifier.verify(token, "drsmith")
    assert err.value.reason == "already_used"


def test_every_reason_has_its_own_message_and_hint() -> None:
    from core.cronto import REFUSALS

    assert set(REASONS) == {
        "not_our_format",
        "bad_signature",
        "unknown_issuer",
        "expired",
        "not_yet_valid",
        "already_used",
        "other_user",
    }
    messages = [REFUSALS[r][0] for r in REASONS]
    assert len(set(messages)) == len(messages)
    assert all(REFUSALS[r][1] for r in REASONS)


def test_check_does_not_use_the_image_up(
    issuer: CrontoIssuer, verifier: CrontoVerifier, clock: ManualClock, store: Store
) -> None:
    token = issuer.make_token("drsmith", NPI, DAY, clock)
    verifier.check(token, "drsmith")
    verifier.check(token, "drsmith")
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cronto_jti)).scalar_one() == 0


def test_consume_commits_with_the_callers_transaction(
    issuer: CrontoIssuer, verifier: CrontoVerifier, clock: ManualClock, store: Store
) -> None:
    token = issuer.make_token("drsmith", NPI, DAY, clock)
    claims = verifier.check(token, "drsmith")

    class Abort(Exception):
        pass

    with pytest.raises(Abort), store.begin() as conn:
        verifier.consume(claims, conn)
        raise Abort  # the enrollment step failed after consuming: the jti must come back
    assert verifier.check(token, "drsmith") == claims

    with store.begin() as conn:
        verifier.consume(claims, conn)
        # A second consume in the same transaction is refused and leaves it usable.
        with pytest.raises(CrontoRejected) as err:
            verifier.consume(claims, conn)
        assert err.value.reason == "already_used"
        assert conn.execute(select(func.count()).select_from(cronto_jti)).scalar_one() == 1
    assert reason_of(verifier, token) == "already_used"


def test_only_one_of_two_concurrent_verifications_wins(
    issuer: CrontoIssuer, clock: ManualClock, tmp_path: Path
) -> None:
    # Two kiosks on one store, each with its own engine.
    stores = [Store.at(tmp_path), Store.at(tmp_path)]
    verifiers = [CrontoVerifier({issuer.name: issuer.public_key_pem()}, clock, s) for s in stores]
    token = issuer.make_token("drsmith", NPI, DAY, clock)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def attempt(v: CrontoVerifier) -> None:
        barrier.wait()
        try:
            v.verify(token, "drsmith")
            outcomes.append("ok")
        except CrontoRejected as exc:
            outcomes.append(exc.reason)

    threads = [threading.Thread(target=attempt, args=(v,)) for v in verifiers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.dispose()
    assert sorted(outcomes) == ["already_used", "ok"]


def test_used_ids_are_forgotten_after_they_expire(
    issuer: CrontoIssuer, verifier: CrontoVerifier, clock: ManualClock, store: Store
) -> None:
    first = issuer.make_token("drsmith", NPI, timedelta(hours=1), clock)
    verifier.verify(first, "drsmith")
    clock.advance(7200)
    second = issuer.make_token("drsmith", NPI, timedelta(hours=1), clock)
    verifier.verify(second, "drsmith")  # consuming purges the expired row
    with store.connect() as conn:
        rows = conn.execute(select(cronto_jti.c.exp)).scalars().all()
    assert rows == [pytest.approx(clock.time() + 3600)]
    # and the first one is still refused, now as expired
    assert reason_of(verifier, first) == "expired"


def test_purge_expired_counts_rows(issuer: CrontoIssuer, verifier: CrontoVerifier, clock: ManualClock) -> None:
    verifier.verify(issuer.make_token("drsmith", NPI, timedelta(hours=1), clock), "drsmith")
    assert verifier.purge_expired() == 0
    clock.advance(3601)
    assert verifier.purge_expired() == 1


def test_a_token_from_the_older_eddsa_name_is_accepted(
    issuer: CrontoIssuer, verifier: CrontoVerifier, clock: ManualClock
) -> None:
    import warnings

    from joserfc import jws
    from joserfc.errors import SecurityWarning

    body = json.dumps(
        {
            "iss": "clinic-it",
            "sub": "drsmith",
            "npi": NPI,
            "jti": "legacy-1",
            "iat": int(clock.time()),
            "exp": int(clock.time()) + 600,
        }
    ).encode()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        token = jws.serialize_compact({"alg": "EdDSA"}, body, issuer._key, algorithms=["EdDSA"])
    assert verifier.check(token, "drsmith").jti == "legacy-1"


def test_verifier_refuses_a_non_ed25519_issuer_key(clock: ManualClock, store: Store) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError):
        CrontoVerifier({"x": pem}, clock, store)


def test_random_garbage_is_always_refused_never_crashes(verifier: CrontoVerifier) -> None:
    import random

    rng = random.Random(7)
    alphabet = "ABCxyz019-_.=+/ {}\"':"
    for _ in range(300):
        payload = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        with pytest.raises(CrontoRejected):
            verifier.check(payload, "drsmith")


def test_image_is_a_png_that_carries_the_token(issuer: CrontoIssuer, clock: ManualClock) -> None:
    import cv2
    import numpy as np

    token = issuer.make_token("drsmith", NPI, DAY, clock)
    png = make_image(token)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert img is not None  # a PNG OpenCV reads
    assert min(img.shape) >= 400  # readable by a webcam at arm's length
    assert (img[:20, :20] == 255).all()  # quiet zone
    from pyzbar.pyzbar import decode

    assert [s.data.decode() for s in decode(img)] == [token]


def test_token_ref_is_short_and_reveals_nothing(issuer: CrontoIssuer, clock: ManualClock) -> None:
    token = issuer.make_token("drsmith", NPI, DAY, clock)
    ref = token_ref(token)
    assert ref.startswith("sha256:") and len(ref) < 24
    assert not any(part[:8] in ref for part in token.split("."))


def test_shape_check_lets_only_token_shaped_payloads_through() -> None:
    from core.cronto import looks_like_enrollment_token

    assert looks_like_enrollment_token("eyJhbGciOiJFZDI1NTE5In0.eyJzdWIiOiJ4In0.c2ln")
    for other in ("https://example.org/menu", "a.b", "a..c", "a.b.c d", "ä.b.c", "x" * 5000):
        assert not looks_like_enrollment_token(other)
