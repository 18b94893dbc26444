from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings


def test_defaults_need_nothing_set() -> None:
    settings = load_settings({})
    settings.check()
    assert settings.crm_adapter == "none"
    assert settings.resolved_database_url().startswith("sqlite:///")
    assert "*" not in settings.allowed_origins
    assert not settings.slack_enabled


def test_values_come_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings({
        "APP_DATA_DIR": str(tmp_path),
        "ALLOWED_ORIGINS": "https://www.example.com, https://docs.example.com",
        "MAX_MESSAGE_CHARS": "500",
        "DATABASE_URL": "postgresql://u:p@db/app",
        "ENCODER_THREADS": "2",
        "ENCODER_PIN_CPU": "1",
    })
    assert settings.encoder_threads == 2
    assert settings.encoder_pin_cpu == 1
    assert load_settings({"APP_DATA_DIR": str(tmp_path)}).encoder_pin_cpu == 0
    assert settings.allowed_origins == ("https://www.example.com", "https://docs.example.com")
    assert settings.max_message_chars == 500
    assert settings.resolved_database_url() == "postgresql://u:p@db/app"
    assert load_settings({"APP_DATA_DIR": str(tmp_path)}).resolved_database_url() == (
        f"sqlite:///{tmp_path / 'app.db'}"
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CRM_ADAPTER": "hubspot"}, "HUBSPOT_TOKEN"),
        ({"CRM_ADAPTER": "webhook", "CRM_WEBHOOK_URL": "http://127.0.0.1/x"}, "CRM_WEBHOOK_SECRET"),
        ({"CRM_ADAPTER": "webhook", "CRM_WEBHOOK_SECRET": "s"}, "CRM_WEBHOOK_URL"),
        ({"SLACK_TOKEN": "token"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_SIGNING_SECRET": "secret"}, "SLACK_TOKEN"),
        ({"CRM_ADAPTER": "salesforce"}, "CRM_ADAPTER"),
    ],
)
def test_a_switched_on_feature_without_its_secret_names_the_variable(
    env: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(env).check()


def test_a_malformed_number_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="MAX_MESSAGE_CHARS"):
        load_settings({"MAX_MESSAGE_CHARS": "lots"})


def test_settings_are_immutable() -> None:
    with pytest.raises(AttributeError):
        # The point of the test: mypy rightly refuses this assignment to a frozen field.
        Settings().crm_adapter = "hubspot"  # type: ignore[misc]
