"""Misspelt words put right before anything reads the message ("linx" -> "linux").

Visitors type fast: "secnds", "containrs", "stateles", "alot". Character n-grams give the
intent classifier some help with that, but the lookup tables ("linux") and the answer
reader (bot/rasa/nlu/answer_fields.py) see a word they do not know, and the sentence encoder
cuts it into word pieces that mean nothing.

A word is corrected only when neither the encoder's vocabulary (about 22,000 English
words) nor our own training data knows it, and a word of our training data is one edit
away (two for long words): an English word such as "plants" is never turned into a
domain word such as "plans". Short words, and words with digits or symbols ("k8s",
"ec2"), are left alone, apart from a few chat spellings ("alot").

A capitalised word in the middle of a sentence is taken for a name ("Exim", "Podman") and
left alone. Only the NLU's view of the text changes. Rasa stores the visitor's own words in the
tracker (`UserUttered.text`), and form slots filled `from_text` (name, company) take
those, so a name is never "corrected".
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa.nlu.answer_fields import OPTIONS_PATH

VOCABULARY_FILE = "vocabulary.json"
# Words shorter than this are not corrected: too many short words are one edit apart.
MIN_LENGTH = 4
# From this length on a word may be two edits away from the one meant.
TWO_EDITS_FROM = 8
# Chat spellings that no edit distance finds (or that are too short for it).
SHORTHAND = {
    "alot": "a lot", "aps": "apps", "thx": "thanks", "pls": "please", "plz": "please",
    "u": "you", "ur": "your", "dunno": "don't know", "wanna": "want to",
}
_WORD = re.compile(r"[A-Za-z][A-Za-z']*")


def words_of(text: str) -> list[str]:
    """The lower-case words of a text, apostrophes kept ("can't")."""
    return [word.lower() for word in _WORD.findall(text)]


def training_vocabulary(training_data: TrainingData,
                        options_path: Path = OPTIONS_PATH) -> Counter[str]:
    """How often each word occurs in our training data, responses, lookups and options."""
    counts: Counter[str] = Counter()
    for example in training_data.training_examples:
        text = example.get(TEXT)
        if isinstance(text, str):
            counts.update(words_of(text))
    for variations in (training_data.responses or {}).values():
        for variation in variations:
            counts.update(words_of(str(variation.get("text") or "")))
    for table in training_data.lookup_tables or []:
        for element in table.get("elements") or []:
            counts.update(words_of(str(element)))
    counts.update(words_of(" ".join(_strings(yaml.safe_load(options_path.read_text())))))
    return counts


def _strings(node: Any) -> Iterable[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _deletes(word: str, edits: int) -> set[str]:
    """Every string made by deleting up to `edits` letters of `word`."""
    found, frontier = {word}, {word}
    for _ in range(edits):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, swaps."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _lacks_letters_of(typed: str, word: str) -> bool:
    """Whether `typed` is `word` with letters left out (a subsequence of it)."""
    letters = iter(word)
    return all(letter in letters for letter in typed)


def _starts_sentence(text: str, position: int) -> bool:
    before = text[:position].rstrip()
    return not before or before[-1] in ".!?:\n"


def allowed_edits(word: str) -> int:
    return 2 if len(word) >= TWO_EDITS_FROM else 1


class SpellingCorrector:
    """Corrects unknown words to the likeliest word of the training vocabulary. Pure."""

    def __init__(self, vocabulary: Mapping[str, int], known_words: Iterable[str]) -> None:
        """Args:
            vocabulary: Words of our training data with their counts (the targets).
            known_words: Other correctly spelt words (the encoder's vocabulary).
        """
        self._counts = dict(vocabulary)
        self._known = frozenset(known_words) | frozenset(self._counts)
        self._by_deletion: dict[str, list[str]] = {}
        for word in self._counts:
            if len(word) >= MIN_LENGTH - 1:  # "linx" -> "linux" deletes down to 4 letters
                for variant in _deletes(word, allowed_edits(word)):
                    self._by_deletion.setdefault(variant, []).append(word)

    def correct_word(self, word: str) -> str | None:
        """The word meant, or None when the word is known or nothing is close enough."""
        lower = word.lower()
        if lower in SHORTHAND:
            return SHORTHAND[lower]
        if len(lower) < MIN_LENGTH or lower in self._known:
            return None
        edits = allowed_edits(lower)
        candidates = {target for variant in _deletes(lower, edits)
                      for target in self._by_deletion.get(variant, ())}
        # Fewest edits first; then a word the typed one only lacks letters of ("wich" is
        # "which" more likely than "with": letters left out are the commonest slip);
        # then the commoner word.
        ranked = sorted(
            (distance, not _lacks_letters_of(lower, target), -self._counts[target], target)
            for target in candidates
            if (distance := edit_distance(lower, target)) <= edits)
        if not ranked:
            return None
        if len(ranked) > 1 and ranked[0][:3] == ranked[1][:3]:
            return None  # two words equally likely: guessing would be worse than nothing
        return ranked[0][3]

    def correct(self, text: str) -> str:
        """`text` with its unknown words corrected; everything else as it was."""
        def replace(match: re.Match[str]) -> str:
            word = match.group(0)
            if word[0].isupper() and not _starts_sentence(text, match.start()):
                return word  # a name in the middle of a sentence ("Exim", "Podman")
            corrected = self.correct_word(word)
            return word if corrected is None else corrected

        return _WORD.sub(replace, text)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SpellingNormaliser(GraphComponent):  # type: ignore[misc]
    """First in the pipeline: the message's text with misspelt words corrected.

    Training only records the vocabulary; the training examples are read as written.
    """

    def __init__(self, model_storage: ModelStorage, resource: Resource,
                 corrector: SpellingCorrector | None = None) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self._corrector = corrector

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SpellingNormaliser:
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(
                json.dumps(dict(sorted(training_vocabulary(training_data).items()))))
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> SpellingNormaliser:
        from bot.encoder import minilm

        with model_storage.read_from(resource) as directory:
            vocabulary = json.loads((directory / VOCABULARY_FILE).read_text())
        return cls(model_storage, resource,
                   SpellingCorrector(vocabulary, minilm.shared_encoder().whole_words()))

    def process(self, messages: list[Message]) -> list[Message]:
        if self._corrector is None:
            return messages  # not trained yet (Rasa runs process on a fresh component)
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and text and not text.startswith("/"):
                corrected = self._corrector.correct(text)
                if corrected != text:
                    message.set(TEXT, corrected)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
