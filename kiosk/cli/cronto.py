"""`ipkiosk cronto`: make and read enrollment images (cronto images).

    ipkiosk cronto make --user USERNAME --npi NPI --out FILE.png [--expires-in DAYS]
    ipkiosk cronto decode IMAGE_OR_VIDEO [--user USERNAME]
    ipkiosk cronto public-key

`make` signs with this kiosk's issuer key (keyring name `cronto-issuer-key`, issuer name
`issuer_name` in the config); `--create-key` makes one on first use. `decode` reads the first
payload and verifies signature, issuer and expiry (and ownership with --user) without using the
image up. A token is printed only as a short hash reference, never in full.
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path
from typing import Any

from core.credentials import ISSUER_KEY
from core.cronto import CrontoIssuer, CrontoVerifier, make_image, token_ref
from core.errors import CredentialMissing, KioskError
from core.npi import validate_npi
from kiosk.cli.common import iso_time, path_argument
from kiosk.cli.context import CliContext
from kiosk.config_checks import check_name
from kiosk.files import check_input, check_output, write_private


class ScanFailed(KioskError):
    """No payload could be read from the file; `reason` as the scanner's Failed reasons."""

    hint = "Check the file: it must be an image or video showing one enrollment image (QR code)."

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("cronto", help="make and read enrollment images (cronto images)")
    sub = parser.add_subparsers(dest="cronto_command", metavar="ACTION", required=True)

    make = sub.add_parser("make", help="sign an enrollment image for a provider")
    make.add_argument("--user", required=True, help="the provider's kiosk username")
    make.add_argument("--npi", required=True, help="the provider's 10-digit NPI")
    make.add_argument("--out", required=True, type=path_argument, help="PNG file to write")
    make.add_argument(
        "--expires-in", type=float, default=30.0, metavar="DAYS", help="days until the image expires (default 30)"
    )
    make.add_argument(
        "--create-key", action="store_true", help="create this kiosk's issuer key in the keyring if it has none"
    )
    make.set_defaults(handler=make_cmd)

    decode = sub.add_parser("decode", help="read and verify the enrollment image in a file")
    decode.add_argument("file", type=path_argument, metavar="IMAGE_OR_VIDEO")
    decode.add_argument("--user", help="also check that the image belongs to this username")
    decode.set_defaults(handler=decode_cmd)

    public = sub.add_parser("public-key", help="print this kiosk's issuer public key (PEM)")
    public.set_defaults(handler=public_key_cmd)


def _issuer(ctx: CliContext, *, create: bool = False) -> CrontoIssuer:
    credentials = ctx.services.credentials
    pem = credentials.get(ISSUER_KEY)
    if pem is None:
        if not create:
            raise CredentialMissing(
                f"This kiosk has no enrollment-image issuer key ('{ISSUER_KEY}' in the keyring).",
                hint="Run `ipkiosk cronto make ... --create-key` once, then give other kiosks "
                "the output of `ipkiosk cronto public-key` for their `issuers` setting.",
            )
        pem = CrontoIssuer.new_private_key_pem().decode("ascii")
        credentials.set(ISSUER_KEY, pem)
    return CrontoIssuer(ctx.settings.issuer_name, pem.encode("ascii"))


def make_cmd(ctx: CliContext, args: argparse.Namespace) -> int:
    npi = validate_npi(args.npi)
    if not 1 / 1440 <= args.expires_in <= 3650:
        raise KioskError(
            "--expires-in must be between one minute (0.0007) and 3650 days.",
            hint="For example --expires-in 30.",
        )
    try:
        check_name(args.user, "username")  # the image's `sub`: what the kiosk's usernames can be
    except ValueError as exc:
        raise KioskError(f"--user: {exc}.", hint="Give the provider's kiosk username.") from None
    out: Path = check_output(args.out, "PNG file", ctx.settings)  # before anything is made or stored
    issuer = _issuer(ctx, create=args.create_key)
    token = issuer.make_token(args.user, npi, timedelta(days=args.expires_in), ctx.services.clock)
    write_private(out, make_image(token))  # 0600: the image is a bearer credential until used
    verifier = CrontoVerifier({issuer.name: issuer.public_key_pem()}, ctx.services.clock, ctx.services.store)
    claims = verifier.check(token, args.user)
    doc = {"out": str(out), "token_ref": token_ref(token), **claims.as_dict(), "expires_at": iso_time(claims.exp)}
    ctx.emit(
        doc,
        f"Wrote the enrollment image for {claims.sub} (NPI {claims.npi}) to {out}; "
        f"issuer {claims.iss}, expires at {iso_time(claims.exp)}.",
    )
    return 0


def _verifier(ctx: CliContext) -> CrontoVerifier:
    from kiosk.services import issuer_keys

    services = ctx.services
    # The configured issuers plus this kiosk's own key, exactly as the kiosk itself trusts them.
    return CrontoVerifier(issuer_keys(ctx.settings, services.credentials), services.clock, services.store)


def decode_cmd(ctx: CliContext, args: argparse.Namespace) -> int:
    from kiosk.camera import SourceError, first_payload_in_file

    if args.file.exists():  # the camera's reader calls a folder or a FIFO "no file"
        check_input(args.file, "image or video file")
    try:
        payload = first_payload_in_file(str(args.file))
    except SourceError as exc:
        raise ScanFailed(exc.message, "no_file" if exc.reason == "no_camera" else exc.reason) from None
    if payload is None:
        raise ScanFailed(f"No QR code could be read in {args.file}.", "unreadable")
    claims = _verifier(ctx).check(payload, args.user)  # never consumes: the image stays usable
    doc = {
        "valid": True,
        "token_ref": token_ref(payload),
        "claims": claims.as_dict(),
        "issued_at": iso_time(claims.iat),
        "expires_at": iso_time(claims.exp),
    }
    ctx.emit(
        doc,
        f"Valid enrollment image: user {claims.sub}, NPI {claims.npi}, issuer "
        f"{claims.iss}, expires at {iso_time(claims.exp)}, id {claims.jti}.",
    )
    return 0


def public_key_cmd(ctx: CliContext, args: argparse.Namespace) -> int:
    issuer = _issuer(ctx)
    pem = issuer.public_key_pem().decode("ascii")
    ctx.emit({"issuer": issuer.name, "public_key_pem": pem}, pem.rstrip("\n"))
    return 0
