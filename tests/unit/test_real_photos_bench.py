"""bench/real_photos.py without the network: its degradations are a function of the seed alone,
and a download that fails or does not match the pinned hash is refused in words, not a trace."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench import real_photos
from bench.real_photos import DEGRADATIONS, QR_PHOTOS, FetchError, degraded_shots, fetch
from tests.photo_frames import modules, render


def stand_in_photos() -> dict[str, np.ndarray]:
    """A generated code where each real photo's code is, so no photo is needed."""
    images = {}
    for photo in QR_PHOTOS:
        c = np.array(photo.corners)
        w, h = c.max(axis=0) + 30
        img = np.full((h, w), 200, np.uint8)
        side = int(c.max(axis=0)[0] - c.min(axis=0)[0])
        code = cv2.resize(render(modules(photo.payload), 1, 0), (side, side), interpolation=cv2.INTER_NEAREST)
        x, y = c.min(axis=0)
        img[y : y + side, x : x + side] = code[: h - y, : w - x]
        images[photo.name] = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    return images


def test_the_degraded_frames_depend_on_the_seed_alone() -> None:
    images = stand_in_photos()
    first, again, other = (degraded_shots(images, 2, seed) for seed in (7, 7, 8))
    assert [s.category for s in first] == [c for c in DEGRADATIONS for _ in range(2 * len(QR_PHOTOS))]
    assert all(np.array_equal(a.frame, b.frame) for a, b in zip(first, again, strict=True))
    for category in DEGRADATIONS:
        pairs = [(a, b) for a, b in zip(first, other, strict=True) if a.category == category]
        # Each degradation draws from its generator: another seed, other frames.
        assert any(a.frame.shape != b.frame.shape or not np.array_equal(a.frame, b.frame) for a, b in pairs), category


@pytest.fixture
def wrong_file_server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"not the zxing tarball"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/zxing_3.4.1+ds.orig.tar.xz"
    finally:
        server.shutdown()
        server.server_close()


def test_a_download_that_is_not_the_pinned_file_is_refused_and_not_kept(
    wrong_file_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(real_photos, "URL", wrong_file_server)
    with pytest.raises(FetchError, match=r"not the pinned .*refusing to use it"):
        fetch(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_cached_file_that_changed_is_refused(tmp_path: Path) -> None:
    (tmp_path / "zxing_3.4.1+ds.orig.tar.xz").write_bytes(b"changed")
    with pytest.raises(FetchError, match="delete it to download again"):
        fetch(tmp_path)


def test_no_network_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(real_photos, "URL", f"http://127.0.0.1:{port}/zxing_3.4.1+ds.orig.tar.xz")
    with pytest.raises(FetchError, match=r"could not download .*Connect this machine to the network"):
        fetch(tmp_path)
    assert list(tmp_path.iterdir()) == []
