"""The offline demo: accounts, a five-region directory, hardware tokens and cronto images.

Everything is made fresh in its own data dir. Its keys live in a clearly named demo-only
keyring file in that dir, never in the machine's real keyring: a real kiosk on the same laptop
keeps its own `seed-key` and `audit-key` untouched.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from core.clock import Clock, SystemClock
from core.credentials import ISSUER_KEY
from core.cronto import CrontoIssuer, make_image
from core.directory.importer import import_directory
from core.directory.nppes import NppesRecord, write_nppes_csv
from core.directory.regional import default_shard_paths
from core.npi import is_valid_npi
from core.seedfiles import TokenSpec
from core.token_fitness import DEMO_FIPS_CERT
from core.tokens import TokenState
from kiosk.config import load_settings
from kiosk.files import private_dir, restrict_umask
from kiosk.services import Services, build_services

DEMO_PASSWORD = "demo-password"  # noqa: S105 - printed for the demo user on purpose
DEMO_ISSUER = "ipkiosk-demo"


def npi_with_check_digit(first_nine: str) -> str:
    return next(first_nine + d for d in "0123456789" if is_valid_npi(first_nine + d))


@dataclass(frozen=True)
class DemoProvider:
    username: str
    name: str  # "Last, First"
    npi: str
    state: str
    story: str  # what the demo shows with this account
    in_directory: bool = True
    deactivated: bool = False
    image_for: str | None = None  # whose username the image is signed for (default: own)


PROVIDERS: tuple[DemoProvider, ...] = (
    DemoProvider(
        "dr.rivera",
        "Rivera, Ana",
        npi_with_check_digit("123456789"),
        "NY",
        "NPI verified in region 1: binds the iPrescribe Authenticator app",
    ),
    DemoProvider(
        "dr.okafor",
        "Okafor, Ben",
        npi_with_check_digit("199399999"),
        "TX",
        "NPI not found in regions 1-5: redirected to the Code Generator",
        in_directory=False,
    ),
    DemoProvider(
        "dr.chen",
        "Chen, Li",
        npi_with_check_digit("100300012"),
        "OH",
        "NPI deactivated: redirected to the Code Generator",
        deactivated=True,
    ),
    DemoProvider(
        "dr.patel",
        "Patel, Raj",
        npi_with_check_digit("129572356"),
        "CA",
        "enrollment image belongs to dr.rivera: refused",
        image_for="dr.rivera",
    ),
)
IT_STAFF = ("it.admin", "Admin, Ivy", "IT staff: guided setup, resyncs, lost tokens, unlocks")
IT_TOKEN = "DEMO-IT01"  # noqa: S105 - a serial number
# EPCS: dr.rivera may be granted signing permission; dr.patel, a DEA registrant, may approve it.
DEMO_DEA = {"dr.rivera": "AR1234563", "dr.patel": "BP9876547"}
DEMO_APPROVER = "dr.patel"


def demo_token_specs() -> list[TokenSpec]:
    specs = [TokenSpec(f"DEMO-{i:04d}", "totp", secrets.token_bytes(20)) for i in range(1, 9)]
    specs.append(TokenSpec("DEMO-H001", "hotp", secrets.token_bytes(20)))
    specs.append(TokenSpec("DEMO-S256", "totp", secrets.token_bytes(32), algorithm="SHA256", digits=8, period=60))
    specs.append(TokenSpec(IT_TOKEN, "totp", secrets.token_bytes(20)))
    return specs


def _directory_records() -> list[NppesRecord]:
    records = []
    for p in PROVIDERS:
        if not p.in_directory:
            continue
        last, first = (s.strip() for s in p.name.split(","))
        records.append(
            NppesRecord(
                p.npi, 1, last, first, state=p.state, deactivation_date=date(2024, 3, 1) if p.deactivated else None
            )
        )
    # Background population so each region has someone in it, an organisation among them.
    states = ["MA", "FL", "IL", "AZ", "WA", "PA", "GA", "MN", "CO", "OR"]
    for i, state in enumerate(states):
        records.append(NppesRecord(npi_with_check_digit(f"1{i:03d}45678"), 1, f"Demo{i}", "Pat", state=state))
    records.append(NppesRecord(npi_with_check_digit("155555555"), 2, organization_name="Demo Clinic LLC", state="NY"))
    return records


def build_demo(data_dir: Path, *, clock: Clock | None = None) -> Services:
    """Write the demo into `data_dir` (which must be empty or new) and return its services."""
    restrict_umask()  # its enrollment images are bearer credentials, its keyring file holds keys
    private_dir(data_dir, adopt_empty=True)
    if any(data_dir.iterdir()):
        from core.errors import ConfigError

        raise ConfigError(f"{data_dir} is not empty; the demo builds into a fresh folder.")
    issuer_pub: bytes
    issuer = CrontoIssuer.generate(DEMO_ISSUER)
    issuer_pub = issuer.public_key_pem()
    (data_dir / "config.toml").write_text(
        "# Demo kiosk: offline data made by `ipkiosk demo`. Not for real providers.\n"
        "demo = true\n"
        'keyring = "demo-file"\n'
        f'issuer_name = "{DEMO_ISSUER}"\n'
        f'kiosk_id = "demo-kiosk"\n'
        "[issuers]\n"
        f'"{DEMO_ISSUER}" = """{issuer_pub.decode("ascii")}"""\n',
        encoding="utf-8",
    )
    settings = load_settings(data_dir)
    services = build_services(settings, clock=clock or SystemClock())
    services.credentials.set(ISSUER_KEY, issuer.private_key_pem().decode("ascii"))

    nppes = data_dir / "demo-nppes.csv"
    write_nppes_csv(nppes, _directory_records())
    import_directory(nppes, default_shard_paths(data_dir / "directory"))

    system = services.system
    specs = demo_token_specs()
    system.tokens.import_specs(specs)
    with system.store.begin() as conn:
        for spec in specs:  # so the demo's EPCS flows work with epcs_require_fips on
            system.token_fitness.set_device(
                conn, spec.serial, vendor="Demo", model="Demo OTP", fips_cert=DEMO_FIPS_CERT
            )
    with system.store.begin() as conn:
        for p in PROVIDERS:
            system.accounts.add(
                conn,
                p.username,
                display_name=p.name,
                npi=p.npi,
                role="provider",
                password=DEMO_PASSWORD,
                email=f"{p.username}@demo.invalid",
                dea_number=DEMO_DEA.get(p.username),
                dea_registrant=p.username == DEMO_APPROVER,
            )
        username, name, _ = IT_STAFF
        system.accounts.add(conn, username, display_name=name, npi=None, role="it_staff", password=DEMO_PASSWORD)
        system.tokens.assign(conn, IT_TOKEN, username)
        system.audit.record(conn, "demo_built", actor="demo", subject="-", outcome="ok")
    assert system.tokens.get(IT_TOKEN).state is TokenState.ASSIGNED  # type: ignore[union-attr]

    images = data_dir / "cronto"
    images.mkdir()
    for p in PROVIDERS:
        token = issuer.make_token(
            p.image_for or p.username,
            p.npi if not p.image_for else _npi_of(p.image_for),
            timedelta(days=365),
            services.clock,
        )
        (images / f"{p.username}.png").write_bytes(make_image(token))
    return services


def _npi_of(username: str) -> str:
    return next(p.npi for p in PROVIDERS if p.username == username)


def demo_guide(data_dir: Path) -> str:
    lines = [
        "iPrescribe enrollment kiosk - offline demo",
        f"data: {data_dir}",
        "",
        f"Every demo account's password is: {DEMO_PASSWORD}",
    ]
    for p in PROVIDERS:
        lines.append(f"  {p.username:<13} {p.story}")
    lines.append(f"  {IT_STAFF[0]:<13} {IT_STAFF[2]} (token {IT_TOKEN})")
    lines += [
        "",
        "Enrollment images (the cronto images a webcam would read) are in",
        f"  {data_dir / 'cronto'}/<username>.png",
        "Demo hardware tokens: DEMO-0001 .. DEMO-0008 (TOTP), DEMO-H001 (HOTP), DEMO-S256 (SHA-256, 8 digits, 60 s).",
        "See a token's display in a second terminal:",
        f"  ipkiosk --data-dir {data_dir} token-sim DEMO-0001",
        "EPCS (docs/epcs.md): dr.rivera has a DEA number; dr.patel is a DEA registrant who may approve.",
        "Binding and EPCS notifications are written as .eml files to",
        f"  {data_dir / 'outbox'}/ (or now: ipkiosk --data-dir {data_dir} notifications send)",
    ]
    return "\n".join(lines)
