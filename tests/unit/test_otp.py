"""OTP generation against the RFC vectors and against OATH Toolkit's oathtool."""

from __future__ import annotations

import random
import shutil
import subprocess
from typing import Literal

import pytest

from core import otp
from core.otp import OtpParams

Algorithm = Literal["SHA1", "SHA256", "SHA512"]
ALGORITHMS: list[Algorithm] = ["SHA1", "SHA256", "SHA512"]
RFC4226_SECRET = b"12345678901234567890"
RFC4226_CODES = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]

# RFC 6238 Appendix B with erratum 2866: the SHA-256/512 seeds are 32 and 64 bytes.
SEEDS = {
    "SHA1": b"12345678901234567890",
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
RFC6238 = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize("counter,expected", list(enumerate(RFC4226_CODES)))
def test_hotp_rfc4226_appendix_d(counter: int, expected: str) -> None:
    assert otp.code_at(OtpParams("hotp"), RFC4226_SECRET, counter) == expected


@pytest.mark.parametrize("t,sha1,sha256,sha512", RFC6238)
def test_totp_rfc6238_appendix_b(t: int, sha1: str, sha256: str, sha512: str) -> None:
    for algorithm, expected in zip(ALGORITHMS, (sha1, sha256, sha512), strict=True):
        params = OtpParams("totp", algorithm, 8, 30)
        assert otp.code_at(params, SEEDS[algorithm], otp.step_at(params, t)) == expected


oathtool = shutil.which("oathtool") or ""  # "" only where the test is skipped


@pytest.mark.skipif(not oathtool, reason="oathtool (Debian package oathtool) is not installed")
def test_codes_match_oath_toolkit() -> None:
    rng = random.Random(6238)
    for _ in range(24):
        algorithm = rng.choice(ALGORITHMS)
        digits = rng.choice([6, 8])
        period = rng.choice([30, 60])
        seed = rng.randbytes(rng.choice([20, 32, 64]))
        t = rng.randrange(0, 4_000_000_000)
        params = OtpParams("totp", algorithm, digits, period)
        ours = otp.code_at(params, seed, otp.step_at(params, t))
        theirs = subprocess.run(
            [oathtool, f"--totp={algorithm}", "-d", str(digits), "-s", str(period), "-N", f"@{t}", seed.hex()],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert ours == theirs, (algorithm, digits, period, t)
        counter = rng.randrange(0, 10**6)
        hparams = OtpParams("hotp", algorithm, digits)
        if algorithm == "SHA1":  # oathtool's HOTP mode is SHA-1 only
            theirs = subprocess.run(
                [oathtool, "--hotp", "-d", str(digits), "-c", str(counter), seed.hex()],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            assert otp.code_at(hparams, seed, counter) == theirs


def test_normalize_code() -> None:
    assert otp.normalize_code("123 456", 6) == "123456"
    assert otp.normalize_code("123-456", 6) == "123456"
    assert otp.normalize_code("12345", 6) is None
    assert otp.normalize_code("１２３４５６", 6) is None  # full-width digits are not ASCII
    assert otp.normalize_code("12a456", 6) is None


def test_params_refuse_unsupported() -> None:
    for bad in (dict(digits=7), dict(period=45), dict(algorithm="MD5")):
        with pytest.raises(ValueError):
            OtpParams("totp", **bad)


def test_totp_signin_window_is_one_step_around_drift() -> None:
    params = OtpParams()
    w = otp.windows(params, t=3000.0, drift=4, last_used=-1, counter_base=0)
    assert w.signin == [103, 104, 105]
    assert len(w.resync) == 2 * (24 * 3600 // 30) + 1
    assert w.resync[0] == 100  # centred on server time, nearest first


def test_hotp_windows_follow_last_used() -> None:
    w = otp.windows(OtpParams("hotp"), t=0, drift=0, last_used=41, counter_base=0)
    assert w.signin == list(range(42, 52))
    assert w.resync[0] == 42 and w.resync[-1] == 42 + 999


def test_otpauth_uri_and_manual_key() -> None:
    uri = otp.otpauth_uri(OtpParams(), b"\x00" * 20, account="dr.who", issuer="iPrescribe")
    assert uri.startswith("otpauth://totp/iPrescribe:dr.who?")
    assert "secret=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" in uri and "issuer=iPrescribe" in uri
    assert otp.manual_key(b"\x00" * 20) == "AAAA AAAA AAAA AAAA AAAA AAAA AAAA AAAA"
