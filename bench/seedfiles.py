"""Benchmark seed-file import and the token list at vendor scale (issue 11).

    .venv/bin/python bench/seedfiles.py                     # 100,000-key PSKC (or what fits), 100,000-row CSV
    .venv/bin/python bench/seedfiles.py --keys 2000 --rows 2000 --postgres

Generates a passphrase-protected PSKC the way a vendor's tool writes one (RFC 6030 figure 7:
PBKDF2 key derivation, AES-128-CBC with the IV in front of each ciphertext, HMAC-SHA1 over the
ciphertext with an encrypted MAC key, <Policy> dates) and an OATH CSV; imports each with the real
CLI (`ipkiosk tokens import`) in a child process into a fresh demo store, and prints wall time,
CPU time and the child's peak RSS; then times `ipkiosk tokens list --json` over the CSV's tokens
(plus the demo's few). With --postgres the same imports run against a PostgreSQL server started
here (as tests/integration/conftest.py does). Prints figures; asserts nothing.

A PSKC of 100,000 keys in this layout (about 420 bytes a key) is larger than the importer's size
cap (core.seed_checks.MAX_FILE_BYTES): the bench then imports the largest count that fits and
also prints its wall and CPU time scaled to 100,000 keys (linearly, start-up included).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from core.seed_checks import MAX_FILE_BYTES  # noqa: E402 (the checkout's, not an installed copy)

PY = sys.executable
PASSPHRASE = "qwerty-vendor-batch-7"  # noqa: S105 (the generated file's, made up here)
CBC = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _encrypt(key: bytes, plain: bytes) -> bytes:
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv + encryptor.update(padded) + encryptor.finalize()


def write_pskc(path: Path, keys: int) -> None:
    """RFC 6030 figure 7 layout, one HOTP or TOTP key per KeyPackage, every tenth with an expiry date."""
    salt = os.urandom(8)
    iterations = 1000
    key = hashlib.pbkdf2_hmac("sha1", PASSPHRASE.encode(), salt, iterations, 16)
    mac_key = os.urandom(20)
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:pskc"'
            ' xmlns:xenc11="http://www.w3.org/2009/xmlenc11#"'
            ' xmlns:pkcs5="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#"'
            ' xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Version="1.0">\n'
            "<EncryptionKey><xenc11:DerivedKey>"
            '<xenc11:KeyDerivationMethod Algorithm="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2">'
            f"<pkcs5:PBKDF2-params><Salt><Specified>{b64(salt)}</Specified></Salt>"
            f"<IterationCount>{iterations}</IterationCount><KeyLength>16</KeyLength><PRF/>"
            "</pkcs5:PBKDF2-params></xenc11:KeyDerivationMethod>"
            '<xenc:ReferenceList><xenc:DataReference URI="#ED"/></xenc:ReferenceList>'
            "<xenc11:MasterKeyName>Batch 7</xenc11:MasterKeyName></xenc11:DerivedKey></EncryptionKey>\n"
            '<MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1"><MACKey>'
            f'<xenc:EncryptionMethod Algorithm="{CBC}"/>'
            f"<xenc:CipherData><xenc:CipherValue>{b64(_encrypt(key, mac_key))}</xenc:CipherValue>"
            "</xenc:CipherData></MACKey></MACMethod>\n"
        )
        for i in range(keys):
            cipher = _encrypt(key, os.urandom(20))
            mac = hmac.new(mac_key, cipher, hashlib.sha1).digest()
            totp = i % 2 == 0
            kind = "totp" if totp else "hotp"
            data = "" if totp else "<Counter><PlainValue>0</PlainValue></Counter>"
            # The default namespace, no indentation and only the elements that carry something
            # (digits default to 6): how vendors' tools write big batches, about 400 bytes a key.
            # The cipher is named on the first value only; python-pskc takes it as the file's.
            method = f'<xenc:EncryptionMethod Algorithm="{CBC}"/>' if i == 0 else ""
            policy = "<Policy><ExpiryDate>2031-12-31T23:59:59Z</ExpiryDate></Policy>" if i % 10 == 0 else ""
            out.write(
                f"<KeyPackage><DeviceInfo><SerialNo>AC{i:08d}</SerialNo></DeviceInfo>"
                f'<Key Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:{kind}">'
                f"<Data><Secret><EncryptedValue>{method}"
                f"<xenc:CipherData><xenc:CipherValue>{b64(cipher)}</xenc:CipherValue></xenc:CipherData>"
                f"</EncryptedValue><ValueMAC>{b64(mac)}</ValueMAC></Secret>{data}</Data>"
                f"{policy}</Key></KeyPackage>\n"
            )
        out.write("</KeyContainer>\n")


def fitting_keys(path: Path, wanted: int) -> int:
    """Write the PSKC with `wanted` keys, or with the most keys under the importer's size cap."""
    write_pskc(path, wanted)
    size = path.stat().st_size
    if size <= MAX_FILE_BYTES:
        return wanted
    fits = wanted * (MAX_FILE_BYTES - 4096) // size  # keys are the same size, the header small
    print(f"PSKC of {wanted} keys is {size / 2**20:.1f} MiB, over the {MAX_FILE_BYTES // 2**20} MiB cap: "
          f"importing {fits} keys")  # fmt: skip
    write_pskc(path, fits)
    assert path.stat().st_size <= MAX_FILE_BYTES
    return fits


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="ascii") as out:
        out.write("serial,key,type,digits,period_or_counter,algorithm\n")
        for i in range(rows):
            kind, step = ("totp", 30) if i % 2 == 0 else ("hotp", 0)
            out.write(f"CS{i:08d},{os.urandom(20).hex()},{kind},6,{step},SHA1\n")


def run(args: list[str], stdin: str = "", env: dict[str, str] | None = None) -> tuple[float, float, float, int, str]:
    """(wall s, CPU s, peak RSS MB, exit code, stdout) of one child process, from its own rusage."""
    with tempfile.TemporaryFile("w+") as given, tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile() as err:
        given.write(stdin)
        given.seek(0)
        start = time.perf_counter()
        # As an installed kiosk runs: its modules' bytecode cached (a shell that sets
        # PYTHONDONTWRITEBYTECODE would have each run compile ~55 of them again, ~55 ms).
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        child = subprocess.Popen(args, stdin=given, stdout=out, stderr=err, cwd=ROOT, env={**base, **(env or {})})
        _pid, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
        if child.returncode not in (0, 1):
            err.seek(0)
            print(err.read().decode(errors="replace").strip()[-500:], file=sys.stderr)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, child.returncode, text


def ipk(data_dir: Path, *args: str, stdin: str = "", url: str | None = None) -> tuple[float, float, float, int, str]:
    env = {"IPKIOSK_DATABASE_URL": url} if url else None
    return run([PY, "-m", "kiosk.cli", "--data-dir", str(data_dir), *args], stdin, env)


def postgres(base: Path) -> tuple[str, list[str]] | None:
    """A throwaway server: (URL, stop command), or None when no server binaries are installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found:
        return None
    bindir = found[-1].parent
    as_user: list[str] = []
    if os.geteuid() == 0:
        import pwd

        pg = pwd.getpwnam("postgres")
        os.chown(base, pg.pw_uid, pg.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = base / "pg"
    port = 54000 + os.getpid() % 1000
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"],
                   check=True, capture_output=True)  # fmt: skip
    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w",
                    "start"], check=True, capture_output=True)  # fmt: skip
    subprocess.run([*as_user, str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                    "ipkiosk"], check=True, capture_output=True)  # fmt: skip
    stop = [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/ipkiosk", stop


def empty(url: str) -> None:
    """Drop every table, so the next import starts from a fresh store."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def pages(name: str, data_dir: Path, url: str | None) -> None:
    """What the IT inventory screen asks for: a page of 200 and the count, plain and searched."""
    sys.path.insert(0, str(ROOT))
    from kiosk.config import load_settings
    from kiosk.services import build_services

    if url:
        os.environ["IPKIOSK_DATABASE_URL"] = url
    services = build_services(load_settings(data_dir))
    os.environ.pop("IPKIOSK_DATABASE_URL", None)
    inventory = services.system.tokens
    try:
        for label, ask in (
            ("first page + count", lambda: (inventory.list(limit=200), inventory.count())),
            ("last page", lambda: inventory.list(limit=200, offset=max(0, inventory.count() - 200))),
            (
                "search 'CS0009' + count",
                lambda: (inventory.list(search="CS0009", limit=200), inventory.count(search="CS0009")),
            ),
        ):
            times = []
            for _ in range(5):
                start = time.perf_counter()
                ask()
                times.append(time.perf_counter() - start)
            print(f"{name}: IT screen {label:<24} best of 5 {min(times) * 1000:7.1f} ms")
    finally:
        services.close()


def line(label: str, figures: tuple[float, float, float, int, str], extra: str = "") -> None:
    wall, cpu, rss, code, _ = figures
    print(f"{label:<34} wall {wall:6.2f} s  cpu {cpu:6.2f} s  peak RSS {rss:6.0f} MB  exit {code}{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=100_000, help="KeyPackages in the PSKC (fewer if over the cap)")
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the CSV")
    parser.add_argument("--postgres", action="store_true", help="also import into a PostgreSQL server")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-seedfiles-"))
    try:
        pskc, csv_file = work / "batch.pskc", work / "batch.csv"
        keys = fitting_keys(pskc, args.keys)
        write_csv(csv_file, args.rows)
        print(f"PSKC {keys} keys, {pskc.stat().st_size / 2**20:.1f} MiB; CSV {args.rows} rows, "
              f"{csv_file.stat().st_size / 2**20:.1f} MiB")  # fmt: skip
        template = work / "template"
        code = ipk(template, "demo", "--build-only")[3]
        if code != 0:
            raise SystemExit("could not build the demo store")

        def fresh(name: str) -> Path:
            target = work / name
            shutil.copytree(template, target)
            return target

        stores: list[tuple[str, str | None]] = [("sqlite", None)]
        server = postgres(work) if args.postgres else None
        if args.postgres and server is None:
            print("PostgreSQL: no server binaries (Debian: apt-get install postgresql); skipped")
        if server is not None:
            stores.append(("postgresql", server[0]))
        try:
            for name, url in stores:
                d = fresh(f"{name}-pskc")
                figures = ipk(d, "tokens", "import", str(pskc), "--passphrase-stdin", stdin=PASSPHRASE + "\n", url=url)
                per = 100_000 / keys
                scaled = f"  (per 100,000 keys: wall {figures[0] * per:.2f} s, cpu {figures[1] * per:.2f} s)"
                line(f"{name}: import PSKC", figures, scaled if keys < args.keys else "")
                if url is not None:
                    empty(url)
                d = fresh(f"{name}-csv")
                line(f"{name}: import CSV", ipk(d, "tokens", "import", str(csv_file), url=url))
                for run_number in (1, 2, 3):  # the machine is shared: three runs, each shown
                    listed = ipk(d, "--json", "tokens", "list", url=url)
                    count = listed[4].count('"serial"')
                    line(f"{name}: tokens list --json ({run_number})", listed, f"  ({count} tokens)")
                pages(name, d, url)
        finally:
            if server is not None:
                subprocess.run(server[1], capture_output=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
