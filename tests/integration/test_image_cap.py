"""An image file's pixel size is checked from its header before it is decoded (issue 9): a few
kilobytes of PNG can claim 20000 x 20000 pixels, which took 18 s and 2.4 GB to decode."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from core.cronto import make_image
from kiosk.camera import SourceError, first_payload_in_file
from kiosk.camera.source import MAX_IMAGE_PIXELS, FrameSource, parse_camera

TOKEN = "eyJhbGciOiJFZDI1NTE5In0.eyJzdWIiOiJkcnNtaXRoIn0.c2lnbmF0dXJl"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def blank_png(path: Path, width: int, height: int) -> Path:
    """A valid white 1-bit greyscale PNG; all-white rows compress to almost nothing."""
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", body) + png_chunk(b"IEND", b"")
    )
    return path


@pytest.fixture(scope="module")
def huge_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = blank_png(tmp_path_factory.mktemp("cap") / "huge.png", 20_000, 20_000)
    assert path.stat().st_size < 100_000
    return path


def test_a_20000_pixel_square_png_is_refused_before_decoding(huge_png: Path) -> None:
    with pytest.raises(SourceError) as caught:
        FrameSource(parse_camera(str(huge_png)), paced=False)
    assert caught.value.reason == "unreadable"
    assert "20000 x 20000 pixels" in caught.value.message and "megapixels" in caught.value.message


def test_just_over_the_cap_is_refused_and_just_under_decodes(tmp_path: Path) -> None:
    side = int(MAX_IMAGE_PIXELS**0.5)
    with pytest.raises(SourceError, match="larger than"):
        first_payload_in_file(str(blank_png(tmp_path / "over.png", side + 8, side + 8)))
    assert first_payload_in_file(str(blank_png(tmp_path / "small.png", 640, 480))) is None


def test_a_real_enrollment_image_still_decodes(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(make_image(TOKEN))
    assert first_payload_in_file(str(path)) == TOKEN


@pytest.mark.parametrize("content", [b"", b"\x89PNG\r\n\x1a\nshort", b"not an image at all"])
def test_a_file_without_a_readable_header_is_unreadable(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(content)
    with pytest.raises(SourceError) as caught:
        FrameSource(parse_camera(str(path)), paced=False)
    assert caught.value.reason == "unreadable"


def test_cronto_decode_refuses_the_huge_png_with_a_clear_error(huge_png: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "--data-dir", str(tmp_path / "d"), "cronto", "decode", str(huge_png)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    assert "20000 x 20000 pixels" in done.stderr + done.stdout
