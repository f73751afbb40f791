"""Settings: defaults, environment, the config file, and secrets kept private."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from clarion.core.errors import NotInitialised
from clarion.settings import Settings, ensure_secrets, load_settings


def test_defaults_put_both_stores_in_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLARION_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.resolved_app_store_url == f"sqlite:///{tmp_path / 'app.db'}"
    assert settings.resolved_event_store_url == f"duckdb://{tmp_path / 'events.duckdb'}"


def test_environment_beats_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "clarion.toml").write_text(
        'public_url = "https://from-file.example"\n[smtp]\nhost = "mail.example"\nport = 587\n'
    )
    monkeypatch.setenv("CLARION_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CLARION_SMTP__PORT", "2525")
    settings = load_settings()
    assert settings.public_url == "https://from-file.example"
    assert (settings.smtp.host, settings.smtp.port) == ("mail.example", 2525)


def test_secrets_are_created_once_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    with pytest.raises(NotInitialised, match="clarion init"):
        _ = settings.secrets
    assert ensure_secrets(settings) is True
    assert ensure_secrets(settings) is False
    assert stat.S_IMODE(settings.secrets_path.stat().st_mode) == 0o600
    fresh = Settings(data_dir=tmp_path / "d")
    assert len(fresh.secrets.signing_key.get_secret_value()) >= 40
    assert "**" in repr(fresh.secrets)  # never printed in logs
