"""`[smtp]` and `epcs_require_fips` in config.toml: read, validated, and handed to core."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from core.notifications import SmtpSender
from kiosk.config import load_settings
from kiosk.mail import sender_for
from kiosk.services import build_services


def write(data_dir: Path, text: str) -> None:
    (data_dir / "config.toml").write_text('keyring = "memory"\n' + text)


def test_defaults_require_fips_and_have_no_mail(data_dir: Path) -> None:
    write(data_dir, "")
    settings = load_settings(data_dir)
    assert settings.epcs_require_fips is True and settings.smtp is None


def test_smtp_section_and_fips_switch_reach_core(data_dir: Path) -> None:
    write(
        data_dir,
        'epcs_require_fips = false\n[smtp]\nhost = "mail.clinic.example"\nport = 2525\n'
        'from = "kiosk@clinic.example"\nstarttls = true\nusername = "kiosk"\n',
    )
    settings = load_settings(data_dir)
    services = build_services(settings)
    try:
        assert services.system.policy.epcs_require_fips is False
        services.credentials.set("smtp-password", "s3cret-for-smtp")
        sender, from_addr = sender_for(settings, services.credentials)
        assert isinstance(sender, SmtpSender) and from_addr == "kiosk@clinic.example"
        assert (sender.host, sender.port, sender.starttls, sender.password) == (
            "mail.clinic.example", 2525, True, "s3cret-for-smtp",
        )  # fmt: skip
    finally:
        services.close()


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ('host = "m"\nfrom = "not-an-address"\n', "smtp.from"),
        ('host = "m"\nfrom = "a@b.c"\nport = 0\n', "smtp.port"),
        ('from = "a@b.c"\n', "smtp.host"),
        ('host = "m"\nfrom = "a@b.c"\nstarttls = "maybe"\n', "smtp.starttls"),
        ('host = "m"\nfrom = "a@b.c"\npassword = "no, the keyring"\n', "smtp.password"),
    ],
)
def test_bad_smtp_settings_name_the_field(data_dir: Path, section: str, field: str) -> None:
    write(data_dir, "[smtp]\n" + section)
    with pytest.raises(ConfigError) as caught:
        load_settings(data_dir)
    assert field in caught.value.message
    assert "no, the keyring" not in caught.value.message
