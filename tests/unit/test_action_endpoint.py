"""Where the Rasa server finds the action server: one setting, read by the launcher.

endpoints.yml says `url: ${ACTION_SERVER_URL}`; bot/settings.py derives that URL from
ACTIONS_PORT unless it is set (issue 14 item 3: ACTIONS_PORT used to be ignored).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import read_endpoint_config

from bot.launcher import action_server_env, write_endpoints
from bot.settings import SettingsError, load_settings

ENDPOINTS = Path(__file__).resolve().parents[2] / "endpoints.yml"


@pytest.mark.parametrize(
    ("env", "port", "url"),
    [
        ({}, 5055, "http://127.0.0.1:5055/webhook"),
        ({"ACTIONS_PORT": "5155"}, 5155, "http://127.0.0.1:5155/webhook"),
        ({"ACTIONS_PORT": "5155", "ACTION_SERVER_URL": "http://actions.internal:80/webhook"},
         5155, "http://actions.internal:80/webhook"),
        ({"ACTION_SERVER_URL": " http://lb:5055/webhook "}, 5055, "http://lb:5055/webhook"),
    ],
)
def test_the_action_server_url_follows_the_port_unless_given(
    env: dict[str, str], port: int, url: str
) -> None:
    settings = load_settings(env)
    assert settings.actions_port == port
    assert settings.action_server_url() == url


def test_a_malformed_port_is_named() -> None:
    with pytest.raises(SettingsError, match="ACTIONS_PORT"):
        load_settings({"ACTIONS_PORT": "fifty"})


def test_rasa_reads_the_action_url_of_endpoints_yml_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACTION_SERVER_URL", "http://127.0.0.1:5177/webhook")
    endpoint = read_endpoint_config(str(ENDPOINTS), "action_endpoint")
    assert endpoint is not None
    assert endpoint.url == "http://127.0.0.1:5177/webhook"


def test_rasa_refuses_endpoints_yml_without_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ACTION_SERVER_URL", raising=False)
    with pytest.raises(RasaException, match="ACTION_SERVER_URL"):
        read_endpoint_config(str(ENDPOINTS), "action_endpoint")


def test_launched_servers_get_the_url_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = action_server_env(5321)
    assert env == {"ACTIONS_PORT": "5321",
                   "ACTION_SERVER_URL": "http://127.0.0.1:5321/webhook"}
    path = write_endpoints(tmp_path / "endpoints.yml", None, None)
    monkeypatch.setenv("ACTION_SERVER_URL", env["ACTION_SERVER_URL"])
    endpoint = read_endpoint_config(str(path), "action_endpoint")
    assert endpoint is not None
    assert endpoint.url == "http://127.0.0.1:5321/webhook"
