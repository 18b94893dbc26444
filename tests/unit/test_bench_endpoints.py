"""The benchmark's endpoint files: ours as endpoints.yml has it, stock with Rasa's defaults.

Since issue 14 ours sends the domain only to the actions that read it
(`enable_selective_domain`); a stock `rasa init` project does not, and a stock model
trained without `send_domain` marks would break with it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.launcher import product_action_endpoint_options, write_endpoints


def action_endpoint(path: Path) -> dict[str, object]:
    return dict(yaml.safe_load(path.read_text(encoding="utf-8"))["action_endpoint"])


def test_servers_get_the_products_action_endpoint_options(tmp_path: Path) -> None:
    written = action_endpoint(write_endpoints(tmp_path / "ours.yml", None, None))
    assert written["enable_selective_domain"] is True
    assert product_action_endpoint_options() == {"enable_selective_domain": True}


def test_stock_gets_rasas_defaults(tmp_path: Path) -> None:
    written = action_endpoint(write_endpoints(tmp_path / "stock.yml", 5055, None,
                                              action_endpoint={}))
    assert written == {"url": "http://127.0.0.1:5055/webhook"}
