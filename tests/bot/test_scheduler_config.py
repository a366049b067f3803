"""The digest's settings: defaults, accepted forms, and one clear error naming the variable."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings

NAMES = (
    "DIGEST_CHANNEL", "DIGEST_SCHEDULE", "DIGEST_TIMEZONE", "DIGEST_SKIP_EMPTY",
    "ADMIN_USER_IDS", "ANNOUNCE_CHANNEL",
)  # fmt: skip


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    settings = load_settings(env_file=None)
    assert settings.digest_channel is None and settings.announce_channel is None
    assert (settings.digest_schedule, settings.digest_timezone) == ("mon 09:00", "UTC")
    assert settings.digest_skip_empty is True
    assert settings.admin_user_ids == frozenset()


def test_accepted_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_CHANNEL", "c0123abcde")
    monkeypatch.setenv("ANNOUNCE_CHANNEL", "G0456FGHIJ")
    monkeypatch.setenv("DIGEST_SCHEDULE", "30 8 * * 1-5")
    monkeypatch.setenv("DIGEST_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("DIGEST_SKIP_EMPTY", "no")
    monkeypatch.setenv("ADMIN_USER_IDS", "U0123ABCDE, w0456fghij  U0789")
    settings = load_settings(env_file=None)
    assert settings.digest_channel == "C0123ABCDE" and settings.announce_channel == "G0456FGHIJ"
    assert settings.digest_schedule == "30 8 * * 1-5"
    assert settings.digest_timezone == "Europe/Berlin"
    assert settings.digest_skip_empty is False
    assert settings.admin_user_ids == {"U0123ABCDE", "W0456FGHIJ", "U0789"}


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("DIGEST_TIMEZONE", "Europe/Atlantis", "IANA time zone"),
        ("DIGEST_TIMEZONE", "+02:00", "IANA time zone"),
        ("DIGEST_SCHEDULE", "every monday morning", "such as 'mon 09:00'"),
        ("DIGEST_SCHEDULE", "mon 9am", "such as 'mon 09:00'"),
        ("DIGEST_SCHEDULE", "0 9 * * 9", "0 to 7"),
        ("DIGEST_CHANNEL", "#general", "channel ID"),
        ("ANNOUNCE_CHANNEL", "new episodes", "channel ID"),
        ("ADMIN_USER_IDS", "U0123ABCDE,@alexey", "entry 2"),
        ("DIGEST_SKIP_EMPTY", "maybe", "true or false"),
    ],
)
def test_malformed_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    message = str(caught.value)
    assert message.startswith(name) and says in message
