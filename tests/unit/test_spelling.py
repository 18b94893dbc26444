"""Misspelt words put right before the NLU reads a message (bot/rasa/nlu/spelling.py).

The vocabulary is the one training builds from our real training data, and the known
words are the real encoder's, so a change to either that breaks a correction fails here.
"""

from __future__ import annotations

import pytest
from rasa.shared.importers.importer import TrainingDataImporter

from bot.encoder import minilm
from bot.rasa.nlu.spelling import SpellingCorrector, edit_distance, training_vocabulary


@pytest.fixture(scope="module")
def corrector() -> SpellingCorrector:
    importer = TrainingDataImporter.load_from_config("config.yml", "domain.yml", ["data"])
    vocabulary = training_vocabulary(importer.get_nlu_data())
    return SpellingCorrector(vocabulary, minilm.shared_encoder().whole_words())


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("linx", "linux"), ("secnds", "seconds"), ("containrs", "containers"),
     ("stateles", "stateless"), ("smal", "small"), ("kubernets", "kubernetes"),
     # Letters left out are the commonest slip: "which", not the commoner "with".
     ("wich", "which"),
     ("alot", "a lot"), ("aps", "apps")],
)
def test_a_misspelt_word_becomes_the_word_meant(corrector: SpellingCorrector, typed: str,
                                                meant: str) -> None:
    assert corrector.correct_word(typed) == meant


@pytest.mark.parametrize(
    "word",
    # Known English words, domain words, short words, and words with digits.
    ["plants", "linux", "docker", "cod", "k8s", "ec2", "nope", "greenfield"],
)
def test_a_known_or_short_word_is_left_alone(corrector: SpellingCorrector, word: str) -> None:
    assert corrector.correct_word(word) is None


def test_a_word_far_from_every_known_word_is_left_alone(corrector: SpellingCorrector) -> None:
    assert corrector.correct_word("zqxwvtrp") is None


def test_only_the_misspelt_words_of_a_message_change(corrector: SpellingCorrector) -> None:
    assert (corrector.correct("We use Docker alot, all on linx!")
            == "We use Docker a lot, all on linux!")


def test_a_name_in_the_middle_of_a_sentence_is_left_alone(
        corrector: SpellingCorrector) -> None:
    assert corrector.correct("Linx servers, replacing Exim") == "linux servers, replacing Exim"


def test_a_tie_between_two_equally_likely_words_corrects_nothing() -> None:
    corrector = SpellingCorrector({"cart": 3, "card": 3}, known_words=[])
    assert corrector.correct_word("carx") is None


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("linx", "linux", 1), ("teh", "the", 1), ("secnds", "seconds", 1), ("abc", "abc", 0),
     ("kitten", "sitting", 3)],
)
def test_edit_distance_counts_swaps_as_one_edit(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance
