"""Online regions against a real HTTP server on 127.0.0.1 answering in the NPPES API v2.1 shape."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from core.directory import Outcome, RegionalDirectory, open_backends
from core.directory.online import API_KEY_HEADER
from core.directory.regional import default_shard_paths
from tests.nppes_factory import build_directory, individual, npi_from

KNOWN = npi_from(120_000_001)
ORG = npi_from(120_000_002)
GONE = npi_from(120_000_003)
LOCAL = npi_from(120_000_004)
ABSENT = npi_from(120_000_009)


def registry_result(npi: str) -> dict[str, Any] | None:
    """What the NPPES Registry API v2.1 says about our few NPIs."""
    location = {"address_purpose": "LOCATION", "address_type": "DOM", "state": "CA", "city": "X"}
    mailing = {"address_purpose": "MAILING", "address_type": "DOM", "state": "NV"}
    if npi == KNOWN:
        basic = {"first_name": "ANA", "last_name": "DE LA CRUZ", "status": "A", "name": "X"}
        return {"number": int(npi), "enumeration_type": "NPI-1", "basic": basic, "addresses": [mailing, location]}
    if npi == ORG:
        basic = {"organization_name": "VALLEY CLINIC, INC.", "status": "A"}
        return {"number": npi, "enumeration_type": "NPI-2", "basic": basic, "addresses": [location]}
    if npi == GONE:
        basic = {"last_name": "GONE", "status": "D", "deactivation_date": "2023-04-05"}
        return {"number": npi, "enumeration_type": "NPI-1", "basic": basic, "addresses": [location]}
    return None


class Registry(BaseHTTPRequestHandler):
    server: RegistryServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        self.server.requests.append((url.path, query, self.headers.get(API_KEY_HEADER)))
        behaviour = url.path.strip("/")
        if behaviour == "slow":
            time.sleep(1.5)
        if behaviour == "denied":
            return self.reply(401, {"Errors": [{"description": "API key invalid"}]})
        if behaviour == "forbidden":
            return self.reply(403, b"forbidden")
        if behaviour == "malformed":
            return self.reply(200, b'{"result_count": 1, "results": [')
        if behaviour == "flaky":
            self.server.flaky_calls += 1
            if self.server.flaky_calls % 2:
                return self.reply(503, b"busy")
        if query.get("version") != ["2.1"] or "number" not in query:
            return self.reply(200, {"Errors": [{"description": "bad request"}]})
        found = registry_result(query["number"][0])
        results = [found] if found else []
        return self.reply(200, {"result_count": len(results), "results": results})

    def reply(self, status: int, body: dict[str, Any] | bytes) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the slow case)


class RegistryServer(ThreadingHTTPServer):
    daemon_threads = True
    requests: list[tuple[str, dict[str, list[str]], str | None]]
    flaky_calls: int


@pytest.fixture(scope="module")
def server() -> Iterator[RegistryServer]:
    server = RegistryServer(("127.0.0.1", 0), Registry)
    server.requests = []
    server.flaky_calls = 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def registry(server: RegistryServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def online(
    registry: str, paths: dict[int, str], timeout: float = 4.0, keys: dict[int, str] | None = None
) -> RegionalDirectory:
    # Roomy unless a test is about the time limit (the slow cases pass their own, under the
    # server's 1.5 s): each attempt gets half of it, and a busy machine (the suite on 4
    # workers) once made the flaky region's retry miss a 1 s budget.
    keys = keys or {}
    sources = {r: (None, f"{registry}/{path}") for r, path in paths.items()}
    return RegionalDirectory(open_backends(sources, keys.get), timeout)


ALL_OK = {r: "ok" for r in range(1, 6)}


def test_found_individual_is_verified_with_the_api_key_sent(registry: str, server: RegistryServer) -> None:
    server.requests.clear()
    d = online(registry, ALL_OK, keys={5: "k-5-secret"})
    result = d.verify(KNOWN, "De la Cruz")
    assert result.outcome is Outcome.VERIFIED
    assert result.answers[1].record is not None and result.answers[1].record.state == "CA"
    sent = {key for _path, _q, key in server.requests}
    assert "k-5-secret" in sent and None in sent  # each region its own key, none when unset
    assert all(q["version"] == ["2.1"] and q["number"] == [KNOWN] for _p, q, _k in server.requests)


def test_not_found_everywhere_is_not_found(registry: str) -> None:
    result = online(registry, ALL_OK).verify(ABSENT, "Lee")
    assert result.outcome is Outcome.NOT_FOUND
    assert all(a.status == "not_found" for a in result.answers.values())


def test_organization_and_deactivated_answers(registry: str) -> None:
    d = online(registry, ALL_OK)
    assert d.verify(ORG, "Valley Clinic, Inc.").outcome is Outcome.NOT_FOUND
    gone = d.verify(GONE, "Gone")
    assert gone.outcome is Outcome.DEACTIVATED
    assert "April 05, 2023" in gone.message


def test_a_slow_region_is_unavailable_not_not_found(registry: str) -> None:
    d = online(registry, {**ALL_OK, 3: "slow"}, timeout=0.6)
    result = d.verify(ABSENT, "Lee")
    assert result.outcome is Outcome.UNAVAILABLE
    assert result.answers[3].status == "timeout"
    assert "region 3" in result.message


def test_a_slow_region_does_not_hide_a_find(registry: str) -> None:
    d = online(registry, {**ALL_OK, 3: "slow"}, timeout=0.6)
    assert d.verify(KNOWN, "de la cruz").outcome is Outcome.VERIFIED


@pytest.mark.parametrize("path", ["denied", "forbidden"])
def test_rejected_key_names_the_credentials_command(registry: str, path: str) -> None:
    result = online(registry, {**ALL_OK, 2: path}, keys={2: "k-2-secret"}).verify(ABSENT, "Lee")
    assert result.outcome is Outcome.UNAVAILABLE
    assert result.answers[2].status == "error"
    assert "ipkiosk credentials set region-2-api-key" in result.answers[2].reason
    assert "k-2-secret" not in json.dumps(result.to_dict())  # never the key itself


def test_malformed_json_is_unavailable(registry: str) -> None:
    result = online(registry, {**ALL_OK, 4: "malformed"}).verify(ABSENT, "Lee")
    assert result.outcome is Outcome.UNAVAILABLE
    assert "NPPES Registry API v2.1" in result.answers[4].reason


def test_one_retry_rides_out_a_transient_failure(registry: str, server: RegistryServer) -> None:
    server.flaky_calls = 0
    result = online(registry, {**ALL_OK, 1: "flaky"}).verify(KNOWN, "De La Cruz")
    assert result.outcome is Outcome.VERIFIED
    assert result.answers[1].status == "found"
    assert server.flaky_calls == 2


def test_nothing_listening_is_unavailable() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    result = online(f"http://127.0.0.1:{port}", {1: "x"}).verify(ABSENT, "Lee")
    assert result.outcome is Outcome.UNAVAILABLE
    assert "connection failed" in result.answers[1].reason


def test_local_and_online_regions_mix(registry: str, tmp_path: Path) -> None:
    shards, _ = build_directory(tmp_path, [individual(LOCAL, "Local", state="NY")])
    sources: dict[int, tuple[Path | None, str | None]] = {
        1: (shards[1], None),
        2: (shards[2], None),
        3: (None, f"{registry}/ok"),
        4: (None, f"{registry}/ok"),
        5: (None, f"{registry}/ok"),
    }
    d = RegionalDirectory(open_backends(sources, lambda r: None), 1.0)
    assert d.verify(LOCAL, "Local").outcome is Outcome.VERIFIED
    assert d.verify(KNOWN, "De La Cruz").region == 3


async def test_averify_inside_an_event_loop(registry: str) -> None:
    d = online(registry, ALL_OK)
    assert (await d.averify(KNOWN, "De La Cruz")).outcome is Outcome.VERIFIED
    # and the blocking form still works from inside the loop's thread
    assert d.verify(KNOWN, "De La Cruz").outcome is Outcome.VERIFIED


def test_cli_verify_against_an_online_region(registry: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kiosk.cli import main as ipkiosk

    data = tmp_path / "data"
    data.mkdir()
    shards = default_shard_paths(data / "directory")
    build_directory(tmp_path, [individual(LOCAL, "Local")])
    regions = "".join(f'[regions.{r}]\nurl = "{registry}/ok"\n' for r in (3, 4, 5))
    (data / "config.toml").write_text(f'keyring = "memory"\nregion_timeout = 1.0\n{regions}')
    for r in (1, 2):
        shards[r].parent.mkdir(parents=True, exist_ok=True)
        shards[r].write_bytes((tmp_path / "directory" / shards[r].name).read_bytes())
    assert ipkiosk(["--data-dir", str(data), "directory", "verify", KNOWN, "--last-name", "De La Cruz", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["outcome"] == "verified" and doc["region"] == 3
