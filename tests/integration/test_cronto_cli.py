"""`ipkiosk cronto make/decode` end to end, in-process on a manual clock, on a demo data dir."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.cronto import CrontoIssuer, make_image
from kiosk.camera import decode_image_file
from tests.cli_run import Cli, JsonDoc, demo_cli
from tests.frames import empty_frame, video_with_code

Made = tuple[Path, JsonDoc, str]


def cli_json(cli: Cli, *args: str) -> tuple[int, JsonDoc, str]:
    r = cli("--json", *args)
    return r.returncode, r.doc(), r.stdout + r.stderr


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return demo_cli(tmp_path_factory.mktemp("cronto-cli") / "demo")


@pytest.fixture(scope="module")
def made(demo: Cli, tmp_path_factory: pytest.TempPathFactory) -> Made:
    out = tmp_path_factory.mktemp("images") / "drsmith.png"
    rc, doc, text = cli_json(
        demo, "cronto", "make", "--user", "drsmith", "--npi", "1234567893", "--out", str(out), "--expires-in", "7"
    )
    assert rc == 0, text
    return out, doc, text


def test_make_writes_a_signed_image_and_never_prints_the_token(made: Made) -> None:
    out, doc, text = made
    token = decode_image_file(str(out))
    assert token is not None and token.count(".") == 2
    assert token not in text and token.split(".")[2] not in text
    assert doc["sub"] == "drsmith" and doc["npi"] == "1234567893"
    assert doc["exp"] - doc["iat"] == 7 * 86400
    assert doc["token_ref"].startswith("sha256:")


def test_decode_prints_the_verified_claims_and_leaves_the_image_usable(demo: Cli, made: Made) -> None:
    out, made_doc, _ = made
    for _ in range(2):  # decode never uses the image up
        rc, doc, text = cli_json(demo, "cronto", "decode", str(out))
        assert rc == 0, text
        assert doc["valid"] is True
        assert doc["claims"] == {k: made_doc[k] for k in ("iss", "sub", "npi", "jti", "iat", "exp")}


def test_decode_reads_a_video(demo: Cli, made: Made, tmp_path: Path) -> None:
    out, made_doc, _ = made
    token = decode_image_file(str(out))
    assert token is not None
    video = video_with_code(tmp_path / "clip.avi", token, empty=8, showing=3)
    rc, doc, text = cli_json(demo, "cronto", "decode", str(video))
    assert rc == 0, text
    assert doc["claims"]["jti"] == made_doc["jti"]


def test_decode_for_another_user_is_refused(demo: Cli, made: Made) -> None:
    out, _, _ = made
    rc, doc, _ = cli_json(demo, "cronto", "decode", str(out), "--user", "drjones")
    assert rc != 0 and doc["reason"] == "other_user"


def test_decode_refuses_an_image_from_an_untrusted_issuer(demo: Cli, tmp_path: Path) -> None:
    stranger = CrontoIssuer.generate("elsewhere")
    token = stranger.make_token("drsmith", "1234567893", timedelta(days=1), demo.clock)
    (tmp_path / "x.png").write_bytes(make_image(token))
    rc, doc, text = cli_json(demo, "cronto", "decode", str(tmp_path / "x.png"))
    assert rc != 0 and doc["reason"] == "unknown_issuer"
    assert token.split(".")[2] not in text


def test_decode_refuses_a_qr_code_that_is_not_an_enrollment_image(demo: Cli, tmp_path: Path) -> None:
    (tmp_path / "menu.png").write_bytes(make_image("https://example.com/menu"))
    rc, doc, _ = cli_json(demo, "cronto", "decode", str(tmp_path / "menu.png"))
    assert rc != 0 and doc["reason"] == "not_our_format"


def test_decode_without_a_code_or_a_file(demo: Cli, tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), empty_frame(np.random.default_rng(1), 640, 360))
    rc, doc, _ = cli_json(demo, "cronto", "decode", str(blank))
    assert rc != 0 and doc["reason"] == "unreadable"
    rc, doc, _ = cli_json(demo, "cronto", "decode", str(tmp_path / "missing.png"))
    assert rc != 0 and doc["reason"] == "no_file"


def test_make_refuses_an_invalid_npi(demo: Cli, tmp_path: Path) -> None:
    rc, doc, _ = cli_json(
        demo, "cronto", "make", "--user", "x", "--npi", "1234567890", "--out", str(tmp_path / "x.png")
    )
    assert rc == 2 and doc["error"] == "InvalidNPI"
    assert not (tmp_path / "x.png").exists()
