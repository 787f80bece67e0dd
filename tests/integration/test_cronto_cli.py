"""`ipkiosk cronto make/decode` end to end, in subprocesses, on a demo data dir."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.clock import SystemClock
from core.cronto import CrontoIssuer, make_image
from kiosk.camera import decode_image_file
from tests.frames import empty_frame, video_with_code

PY = sys.executable


def ipk(data_dir: Path, *args: str) -> tuple[int, dict, str]:
    r = subprocess.run(
        [PY, "-m", "kiosk.cli", "--data-dir", str(data_dir), "--json", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return r.returncode, json.loads(r.stdout), r.stdout + r.stderr


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cronto-cli") / "demo"
    r = subprocess.run(
        [PY, "-m", "kiosk.cli", "--data-dir", str(d), "demo", "--build-only"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return d


@pytest.fixture(scope="module")
def made(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, str]:
    out = tmp_path_factory.mktemp("images") / "drsmith.png"
    rc, doc, text = ipk(
        demo, "cronto", "make", "--user", "drsmith", "--npi", "1234567893", "--out", str(out), "--expires-in", "7"
    )
    assert rc == 0, text
    return out, doc, text


def test_make_writes_a_signed_image_and_never_prints_the_token(made) -> None:
    out, doc, text = made
    token = decode_image_file(str(out))
    assert token is not None and token.count(".") == 2
    assert token not in text and token.split(".")[2] not in text
    assert doc["sub"] == "drsmith" and doc["npi"] == "1234567893"
    assert doc["exp"] - doc["iat"] == 7 * 86400
    assert doc["token_ref"].startswith("sha256:")


def test_decode_prints_the_verified_claims_and_leaves_the_image_usable(demo, made) -> None:
    out, made_doc, _ = made
    for _ in range(2):  # decode never uses the image up
        rc, doc, text = ipk(demo, "cronto", "decode", str(out))
        assert rc == 0, text
        assert doc["valid"] is True
        assert doc["claims"] == {k: made_doc[k] for k in ("iss", "sub", "npi", "jti", "iat", "exp")}


def test_decode_reads_a_video(demo, made, tmp_path) -> None:
    out, made_doc, _ = made
    token = decode_image_file(str(out))
    video = video_with_code(tmp_path / "clip.avi", token, empty=8, showing=3)
    rc, doc, text = ipk(demo, "cronto", "decode", str(video))
    assert rc == 0, text
    assert doc["claims"]["jti"] == made_doc["jti"]


def test_decode_for_another_user_is_refused(demo, made) -> None:
    out, _, _ = made
    rc, doc, _ = ipk(demo, "cronto", "decode", str(out), "--user", "drjones")
    assert rc != 0 and doc["reason"] == "other_user"


def test_decode_refuses_an_image_from_an_untrusted_issuer(demo, tmp_path) -> None:
    stranger = CrontoIssuer.generate("elsewhere")
    token = stranger.make_token("drsmith", "1234567893", timedelta(days=1), SystemClock())
    (tmp_path / "x.png").write_bytes(make_image(token))
    rc, doc, text = ipk(demo, "cronto", "decode", str(tmp_path / "x.png"))
    assert rc != 0 and doc["reason"] == "unknown_issuer"
    assert token.split(".")[2] not in text


def test_decode_refuses_a_qr_code_that_is_not_an_enrollment_image(demo, tmp_path) -> None:
    (tmp_path / "menu.png").write_bytes(make_image("https://example.com/menu"))
    rc, doc, _ = ipk(demo, "cronto", "decode", str(tmp_path / "menu.png"))
    assert rc != 0 and doc["reason"] == "not_our_format"


def test_decode_without_a_code_or_a_file(demo, tmp_path) -> None:
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), empty_frame(np.random.default_rng(1), 640, 360))
    rc, doc, _ = ipk(demo, "cronto", "decode", str(blank))
    assert rc != 0 and doc["reason"] == "unreadable"
    rc, doc, _ = ipk(demo, "cronto", "decode", str(tmp_path / "missing.png"))
    assert rc != 0 and doc["reason"] == "no_file"


def test_make_refuses_an_invalid_npi(demo, tmp_path) -> None:
    rc, doc, _ = ipk(demo, "cronto", "make", "--user", "x", "--npi", "1234567890", "--out", str(tmp_path / "x.png"))
    assert rc == 2 and doc["error"] == "InvalidNPI"
    assert not (tmp_path / "x.png").exists()
