
from typing import Any

import pytest
import yaml

from bot.offerings import OFFERINGS_FILE, OfferingsError, load_catalogue, parse_catalogue


def _document() -> dict[str, Any]:
    document = yaml.safe_load(OFFERINGS_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def test_the_shipped_catalogue_loads_with_every_product_described() -> None:
    catalogue = load_catalogue()
    assert {"vms", "managed_kubernetes", "microvm_functions", "gpu_instances"} <= set(
        catalogue.offerings)
    for key in catalogue.answer_keys():
        text, _ = catalogue.answer(key) or ("", [])
        assert len(text) > 40 and catalogue.title(key)


def test_a_missing_field_is_named() -> None:
    document = _document()
    del document["offerings"]["vms"]["answer"]
    with pytest.raises(OfferingsError, match=r"offerings\.vms: 'answer'"):
        parse_catalogue(document)


def test_a_platform_answer_may_only_name_known_products() -> None:
    document = _document()
    document["faq"]["pricing"]["offerings"] = ["teleporters"]
    with pytest.raises(OfferingsError, match="teleporters"):
        parse_catalogue(document)


def test_unknown_keys_have_no_answer() -> None:
    assert load_catalogue().answer("ask_offerings/teleporters") is None
    assert load_catalogue().title("ask_offerings/teleporters") is None
