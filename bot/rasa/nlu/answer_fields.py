"""Read workload answers from free text: which profile field each clause speaks to.

One understanding of answers for the opening message, the form's answers and later
corrections. Each clause of a message is embedded (all-MiniLM-L6-v2, shared with the
featurizer) and compared with every option's descriptions in
`bot/advisor/answer_options.yml`; a clause close enough to one option, and clearly closer
to it than to the field's other options, becomes an entity such as
`{"entity": "density", "value": "high"}` that the domain maps to the slot. A few rules add
what embeddings do badly: negation ("no databases") and numbers ("about 200 servers").

Entities from the CRF or lookups for a clause that this reader gives to another field are
dropped ("start within a few seconds" is not density "few"). Below the entity threshold,
the best option per field is kept in `answer_candidates`, so the action server can read a
short answer ("lots", "pretty well") for the question it is asking.

After an affirm/deny/out-of-scope message that carries workload details ("yes, several
legacy apps"), the intent becomes `inform`, so the dialogue treats it as an answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

OPTIONS_PATH = Path(__file__).resolve().parents[2] / "advisor" / "answer_options.yml"

# A clause at least this close to an option's description answers that field.
ENTITY_THRESHOLD = 0.55
# ...and must be this much closer to it than to the field's other options.
MARGIN = 0.05
# ...or a little less close, when much closer to it than to the field's other options.
CLEAR_THRESHOLD = 0.5
CLEAR_MARGIN = 0.08
# A clause of this many words or fewer is never an entity on its own.
SHORT_WORDS = 2
# In a question, a clause must be this close to a description to be read.
QUESTION_THRESHOLD = 0.65
# A clause this short that contains an OS or standard name is read for that name only.
NAMED_CLAUSE_WORDS = 5
# A reply of this many words this close to a short answer, whose intent is this unsure
# (and not a yes/no, which the form reads itself), is an answer.
SHORT_REPLY_WORDS = 4
SHORT_REPLY_SCORE = 0.9
SHORT_REPLY_BELOW = 0.6
KEEP_SHORT_INTENTS = frozenset({"affirm", "deny", "goodbye", "stop", "greet", "thank"})
# Kept for the action server's reading of a short answer to the question asked.
CANDIDATE_THRESHOLD = 0.3
# Intents that, carrying workload details, are answers ("yes, several legacy apps").
PROMOTED_INTENTS = frozenset({"affirm", "deny", "out_of_scope", "nlu_fallback", "thank"})
# ...and so does any intent this unsure of itself, which is what a free-text answer to
# a question ("we know docker pretty well") usually gets.
PROMOTE_BELOW = 0.45
ANSWER_INTENT = "inform"
# A short statement this close to an option's description states a detail plainly
# (longer ones are mostly forum posts about a topic, which keep it).
PLAIN_DETAIL = 0.75
PLAIN_DETAIL_WORDS = 8
# Intents that already take workload details (domain.yml slot mappings).
KEPT_INTENTS = frozenset({"inform", "ask_use_case_recommendation"})
# First words that make a message a question, which is never promoted to an answer.
QUESTION_WORDS = frozenset({
    "what", "whats", "what's", "how", "why", "when", "where", "which", "who", "is", "are",
    "can", "could", "does", "do", "did", "should", "would", "will", "isn't", "aren't",
    "doesn't", "question", "noob", "dumb", "q"})
# A clause that asks for advice is read as a question is ("help me pick: VMs or containers
# for our app": "for our app" does not describe the workload); the clauses after it may.
REQUEST_WORDS = frozenset({"help", "recommend", "advise", "suggest"})
# Words before the first word that says whether a message is a question.
LEADING_FILLERS = frozenset({"hi", "hello", "hey", "ok", "okay", "so", "well", "and",
                             "also", "hmm", "um", "quick", "please", "thanks"})
EXTRACTOR = "AnswerFieldExtractor"
# The parse-data key of the best option per field (read by actions/advisor.py).
CANDIDATES = "answer_candidates"
# Fields whose entities come from lookups and regexes (names, numbers), not from meaning.
NAMED_FIELDS = frozenset({"compliance", "workload_count", "os_mix"})

_CLAUSE_SPLIT = re.compile(
    r"[.;!?\n]+|,\s*(?:and|but|plus)?\s*|\s+(?:but|and|plus|while|although)\s+")
_NEGATION = re.compile(
    r"\b(?:no|not|none|never|without|zero|nothing|neither|nor)\b|\b\w+n't\b(?<!can't)"
)
_NUMBER = re.compile(
    r"(?<![\w.$])(\d{1,3}(?:,\d{3})+|\d+)\+?\s+(?:[\w'-]+\s+){0,2}"
    r"(?:micro-?services?|services|containers|apps|applications|vms|virtual machines|"
    r"servers|workloads|instances|sites|websites|nodes|pods|functions|databases|machines|hosts)\b"
)

# A number per host decides density before any words do ("30 containers per host").
_PER_HOST = re.compile(
    r"(\d+)\s*(?:[\w-]+\s+){0,2}(?:per|on each|on every|a|each)\s+(?:host|server|box|machine|node)")
DENSE_AT_LEAST = 20
SPARSE_AT_MOST = 3

# The words of the FAQ topics themselves, which a plain description of systems lacks.
_TOPIC_WORDS = re.compile(
    r"\b(?:containers?|containeri[sz]\w*|vms?|virtual|virtuali[sz]\w*|docker|kubernetes|k8s|"
    r"pods?|hypervisors?|images?)\b", re.IGNORECASE)

_CHOICE = re.compile(
    r"\b(?:vms?|virtual machines?)\s*(?:or|vs\.?|versus|and|/)\s*containers?\b|"
    r"\bcontainers?\s*(?:or|vs\.?|versus|and|/)\s*(?:vms?|virtual machines?)\b",
    re.IGNORECASE)

Encode = Callable[[Sequence[str]], npt.NDArray[np.float32]]


@dataclass(frozen=True)
class FieldReading:
    """The best option of one field for one clause."""

    field: str
    value: Any
    score: float
    margin: float
    start: int
    end: int
    text: str
    # The option was decided by the clause's words (`decided_by_words`), not its meaning.
    by_words: bool = False


@dataclass(frozen=True)
class AnswerOptions:
    """The contents of answer_options.yml."""

    fields: Mapping[str, Mapping[str, Sequence[str]]]
    short_answers: Mapping[str, Mapping[str, Sequence[str]]]
    negated: Mapping[str, str]
    min_score: Mapping[str, float]
    # field -> option -> phrases that decide the option once a clause is read as the field.
    decided_by_words: Mapping[str, Mapping[str, Sequence[str]]] = dataclass_field(
        default_factory=dict)


def load_options(path: Path = OPTIONS_PATH) -> AnswerOptions:
    """The option descriptions, short answers and negated options of answer_options.yml."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))

    def table(section: Mapping[str, Any]) -> dict[str, dict[str, list[str]]]:
        return {
            field: {str(option): [str(t) for t in texts] for option, texts in options.items()}
            for field, options in (section or {}).items()
        }

    return AnswerOptions(table(data["fields"]), table(data.get("short_answers") or {}),
                         dict(data.get("negated") or {}),
                         {f: float(v) for f, v in (data.get("min_score") or {}).items()},
                         table(data.get("decided_by_words") or {}))


def option_value(option: str) -> Any:
    """The slot value of an option name: booleans for `true`/`false`."""
    return {"true": True, "false": False}.get(option, option)


def clauses(text: str) -> list[tuple[int, int, str]]:
    """The clauses of `text` with their character spans (the whole text when one)."""
    spans: list[tuple[int, int, str]] = []
    start = 0
    for match in _CLAUSE_SPLIT.finditer(text):
        piece = text[start:match.start()]
        if piece.strip():
            spans.append((start, match.start(), piece.strip()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text), text[start:].strip()))
    return _qualifiers_joined(text, spans)


def _qualifiers_joined(text: str, spans: list[tuple[int, int, str]]
                       ) -> list[tuple[int, int, str]]:
    """A short "but ..." clause qualifies the one before ("our own code but sensitive")."""
    joined: list[tuple[int, int, str]] = []
    for start, end, piece in spans:
        between = text[joined[-1][1]:start].lower() if joined else ""
        if joined and "but" in between.split() and len(piece.split()) <= SHORT_WORDS:
            first = joined.pop()
            joined.append((first[0], end, text[first[0]:end].strip()))
        else:
            joined.append((start, end, piece))
    return joined


def _pieces(text: str) -> list[tuple[int, int, str]]:
    """The spans `AnswerReader.read` scores: the clauses, then the whole message if it
    has several."""
    # "VMs or containers?" names the choice, not the workload: blanked, same length.
    text = _CHOICE.sub(lambda m: " " * len(m.group(0)), text)
    pieces = clauses(text)
    if len(pieces) > 1:
        pieces.append((0, len(text), text.strip()))
    return pieces


@dataclass(frozen=True)
class _Clause:
    """A clause being read, with what every field's reading asks of it worked out once."""

    start: int
    end: int
    text: str
    lowered: str
    negated: bool  # "we have no databases" embeds close to "databases"

    @classmethod
    def of(cls, start: int, end: int, text: str) -> _Clause:
        lowered = text.lower()
        return cls(start, end, text, lowered, _NEGATION.search(lowered) is not None)


class AnswerReader:
    """Scores clauses against the option descriptions; pure apart from `encode`."""

    def __init__(self, options: AnswerOptions, encode: Encode) -> None:
        self._encode = encode
        self._negated = options.negated
        self._min_score = options.min_score
        self._word_rules = WordRules(options.decided_by_words)
        # The descriptions grouped by (field, option, short), in the options' order: an
        # option's score is the best of its group's rows, one numpy reduction for every
        # group of a clause at once (a loop over the rows cost 2.5 ms a message). Short
        # answers count only for the question asked.
        groups: dict[tuple[str, str, bool], list[str]] = {}
        for short, table in ((False, options.fields), (True, options.short_answers)):
            for field, field_options in table.items():
                for option, descriptions in field_options.items():
                    groups.setdefault((field, option, short), []).extend(
                        description.lower() for description in descriptions)
        texts = [text for descriptions in groups.values() for text in descriptions]
        self._matrix = encode(texts)
        sizes = [len(descriptions) for descriptions in groups.values()]
        self._group_starts = np.cumsum([0, *sizes[:-1]])
        # (field, with_short) -> [(option, group index)], the options in first-seen order,
        # so that ties between options break as they always have.
        self._groups_of: dict[tuple[str, bool], list[tuple[str, int]]] = {}
        for index, (field, option, short) in enumerate(groups):
            for with_short in (True, False) if not short else (True,):
                self._groups_of.setdefault((field, with_short), []).append((option, index))
        self.fields = tuple(dict.fromkeys([*options.fields, *options.short_answers]))

    def texts_to_encode(self, text: str) -> list[str]:
        """What `read` embeds for `text`: its clauses and, when there are several, the
        whole message (`SentenceEncodingStarter` starts encoding them early)."""
        return [piece[2].lower() for piece in _pieces(text)]

    def read(self, text: str) -> tuple[list[FieldReading], dict[str, FieldReading]]:
        """The confident readings per clause, and the best reading per field overall.

        Args:
            text: The visitor's message.

        Returns:
            Readings above the entity threshold (at most one a field, the strongest),
            and for every field its best option over the message's clauses and the
            whole message, above the candidate threshold.
        """
        pieces = _pieces(text)
        if not pieces:
            return [], {}
        vectors = self._encode([piece[2].lower() for piece in pieces])
        # (clauses, groups): each group's best description for each clause.
        similarity = np.maximum.reduceat(vectors @ self._matrix.T, self._group_starts, axis=1)
        confident: dict[str, FieldReading] = {}
        candidates: dict[str, FieldReading] = {}
        whole = len(pieces) - 1 if len(pieces) > 1 else None
        for row, (start, end, piece) in enumerate(pieces):
            clause = _Clause.of(start, end, piece)
            best_field: FieldReading | None = None
            for field in self.fields:
                short = self._best_option(field, similarity[row], clause, True)
                kept = candidates.get(field)
                if short is not None and (kept is None or short.score > kept.score):
                    candidates[field] = short
                reading = self._best_option(field, similarity[row], clause, False)
                if reading is None or field in NAMED_FIELDS:
                    continue
                if best_field is None or reading.score > best_field.score:
                    best_field = reading
            # A clause answers one field: the one it is closest to. The whole message
            # only counts when it is one clause (its parts were read above).
            if best_field is None or row == whole:
                continue
            # The field is chosen on the descriptions; a short answer of that field that
            # is closer ("under a second") chooses its option.
            with_short = self._best_option(best_field.field, similarity[row], clause, True)
            if with_short is not None and with_short.value != best_field.value and (
                with_short.score > best_field.score
            ):
                # Its value, not its score: a short answer alone is no entity.
                best_field = replace(best_field, value=with_short.value)
            if is_confident(best_field, self._min_score):
                kept = confident.get(best_field.field)
                if kept is None or _stronger(best_field, kept):
                    confident[best_field.field] = best_field
        return list(confident.values()), {
            field: reading
            for field, reading in candidates.items()
            if reading.score >= CANDIDATE_THRESHOLD
        }

    def _best_option(self, field: str, scores: npt.NDArray[np.float32], clause: _Clause,
                     with_short: bool) -> FieldReading | None:
        per_option: dict[str, float] = {}
        for option, group in self._groups_of.get((field, with_short), ()):
            per_option[option] = max(per_option.get(option, -1.0), float(scores[group]))
        if not per_option:
            return None
        ranked = sorted(per_option.items(), key=lambda item: -item[1])
        option, score = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else -1.0
        value = option_value(option)
        negated = clause.negated
        if negated and value is True and "false" in per_option:
            # "we have no databases" embeds close to "databases": negation flips it.
            value, runner_up = False, per_option["false"]
        elif negated and field in self._negated and option != self._negated[field]:
            value, runner_up = self._negated[field], per_option.get(self._negated[field], -1.0)
        margin = score - runner_up
        decided = None if negated else self._word_rules.decide(field, clause.lowered, value)
        if decided is not None:
            # A quantity or an intensity decides between the options, not how close
            # they sound ("a handful" embeds much like "lots"). Where the options differ
            # only in degree, how far apart they sound says nothing either ("some legacy
            # apps" sounds as much like "all our apps are modern" as like "a number of
            # legacy systems").
            value = decided
            margin = max(margin, MARGIN) if field in DEGREE_FIELDS else margin
        return FieldReading(field, value, score, margin, clause.start, clause.end,
                            clause.text, by_words=decided is not None)


def _stronger(reading: FieldReading, kept: FieldReading) -> bool:
    """Whether `reading` replaces `kept`, another clause's reading of the same field.

    The closer one does, except that an option no words replace, said in so many words,
    is kept: in "we need strong isolation, it's multi-tenant" the tenants' code decides.
    """
    sticky = NEVER_DECIDED_BY_WORDS.get(reading.field, frozenset())

    def said(one: FieldReading) -> bool:
        return one.by_words and one.value in sticky

    if said(reading) != said(kept):
        return said(reading)
    return reading.score > kept.score


def is_confident(reading: FieldReading, min_score: Mapping[str, float]) -> bool:
    """Close enough to one option and clearly closer to it than to the others.

    A fragment of a few words ("a lot") says little about which question it answers:
    it counts only as the answer to the question asked (`answer_candidates`), unless it
    is very close to a description.
    """
    if len(reading.text.split()) <= SHORT_WORDS:
        return False
    if reading.score < min_score.get(reading.field, 0.0):
        return False
    return (reading.score >= ENTITY_THRESHOLD and reading.margin >= MARGIN) or (
        reading.score >= CLEAR_THRESHOLD and reading.margin >= CLEAR_MARGIN)


# Fields whose options differ only in degree: how many per host, how strong a separation,
# whether any of the apps are old.
DEGREE_FIELDS = frozenset({"density", "isolation", "legacy"})
# An option these words would replace is kept: "customers' code, very sensitive data" is
# still untrusted code, however sensitive.
NEVER_DECIDED_BY_WORDS = {"isolation": frozenset({"untrusted"})}


class WordRules:
    """The phrases of `decided_by_words`: the longest one in a clause decides its option."""

    def __init__(self, table: Mapping[str, Mapping[str, Sequence[str]]]) -> None:
        self._rules = {
            field: sorted(((phrase.lower(), re.compile(rf"\b{re.escape(phrase.lower())}\b"),
                            option_value(option))
                           for option, phrases in options.items() for phrase in phrases),
                          key=lambda rule: -len(rule[0]))
            for field, options in table.items()
        }

    def decide(self, field: str, text: str, value: Any = None) -> Any:
        """The option the words of `text` give `field`, or None.

        Args:
            field: The field the clause is read as.
            text: The clause, lower case.
            value: The option its meaning gave, which some options keep.
        """
        decided = self._decide(field, text)
        if value in NEVER_DECIDED_BY_WORDS.get(field, ()) and decided != value:
            return None
        return decided

    def _decide(self, field: str, text: str) -> Any:
        if field == "density" and (per_host := _PER_HOST.search(text)):
            count = int(per_host.group(1))
            return ("high" if count >= DENSE_AT_LEAST
                    else "low" if count <= SPARSE_AT_MOST else "medium")
        for _, pattern, option in self._rules.get(field, ()):
            if pattern.search(text):
                return option
        return None


def count_entities(text: str) -> list[dict[str, Any]]:
    """`workload_count` entities for "about 200 servers" (the largest number wins)."""
    found: list[tuple[int, dict[str, Any]]] = []
    for match in _NUMBER.finditer(text):
        count = int(match.group(1).replace(",", ""))
        found.append((count, {"entity": "workload_count", "value": count,
                              "start": match.start(1), "end": match.end(1),
                              "extractor": EXTRACTOR}))
    return [entity for _, entity in sorted(found, key=lambda item: -item[0])[:1]]


def merge_entities(
    existing: Sequence[Mapping[str, Any]],
    readings: Sequence[FieldReading],
    fields: Sequence[str],
) -> list[dict[str, Any]]:
    """Entities after reading: ours for the fields read, earlier ones where they agree.

    An earlier entity of a profile field is dropped when this reader gave the clause
    it sits in to another field, or read the same field differently.
    """
    ours = {reading.field: reading for reading in readings}
    merged: list[dict[str, Any]] = []
    for entity in existing:
        field = entity.get("entity")
        if field not in fields or field in NAMED_FIELDS:
            merged.append(dict(entity))
            continue
        if field in ours:
            continue  # read again from its clause; ours replaces it
        start = entity.get("start", -1)
        inside_other = any(
            r.start <= start < r.end and r.field != field for r in readings
        )
        if not inside_other:
            merged.append(dict(entity))
    for reading in readings:
        merged.append({"entity": reading.field, "value": reading.value, "start": reading.start,
                       "end": reading.end, "confidence_entity": round(reading.score, 3),
                       "extractor": EXTRACTOR})
    return merged


@lru_cache(maxsize=1)
def shared_reader() -> AnswerReader:
    """One reader per process, built on the shared sentence encoder."""
    from bot.encoder import minilm

    return AnswerReader(with_report_labels(load_options()), minilm.shared_encoder().encode)


# Isolation's labels all start "all the code is your own", which would blur "our own
# code" between low and medium; its descriptions carry the widget's corrections instead.
LABELS_NOT_READ = frozenset({"isolation"})


def with_report_labels(options: AnswerOptions) -> AnswerOptions:
    """The options plus the advisor's own labels ("everything runs on Windows").

    The widget's "What I understood" sends a label back as a correction, so every label
    the advisor shows must read as its own option.
    """
    from bot.advisor.rules import FACT_FIELDS, load_rules

    fields = {f: {o: list(d) for o, d in opts.items()} for f, opts in options.fields.items()}
    for fact, values in load_rules().factors.items():
        field = FACT_FIELDS.get(fact)
        if field not in fields or field in LABELS_NOT_READ:
            continue
        for value, factor in values.items():
            fields[field].setdefault(value, []).append(factor.label)
    return replace(options, fields=fields)


def _first_word(text: str) -> str:
    """The word that says whether `text` asks: "hi, can you ..." is a question all the
    same, as greetings and fillers come first."""
    words = (word.strip(",.:!") for word in text.lower().split())
    return next((word for word in words if word not in LEADING_FILLERS), "")


def read_message(text: str, intent: Mapping[str, Any] | None,
                 existing: Sequence[Mapping[str, Any]], reader: AnswerReader
                 ) -> tuple[list[dict[str, Any]], dict[str, Any], str | None]:
    """Entities, candidates and a promoted intent name (or None) for one message."""
    readings, candidates = reader.read(text)
    # A short clause that names an OS or a standard ("a mix of Windows Server") is about
    # that; what it resembles otherwise is noise.
    named_spans = [(e.get("start", -1), e.get("end", -1)) for e in existing
                   if e.get("entity") in NAMED_FIELDS]
    readings = [r for r in readings if not (
        len(r.text.split()) <= NAMED_CLAUSE_WORDS
        and any(r.start <= start < r.end for start, _ in named_spans))]
    # A question keeps its topic whether or not it ends with "?": forum titles often don't
    # ("how to run windows containers on a linux host").
    words = text.lower().split()
    first = _first_word(text)
    # A question mark anywhere makes it a question ("can I run windows inside a
    # container? thanks").
    statement = "?" not in text and first not in QUESTION_WORDS
    if not statement:
        # A question mostly asks about things ("would you run MySQL in production?",
        # "can you recommend something for our apps"): only what is said plainly
        # describes the visitor's own workload.
        readings = [r for r in readings if r.score >= QUESTION_THRESHOLD]
    readings = [r for r in readings if r.score >= QUESTION_THRESHOLD or r.by_words
                or _first_word(r.text) not in REQUEST_WORDS]
    fields = [*reader.fields, *NAMED_FIELDS]
    entities = merge_entities(existing, readings, fields)
    if not any(e.get("entity") == "workload_count" for e in entities):
        entities += count_entities(text)
    candidate_data = {
        field: {"value": r.value, "score": round(r.score, 3), "margin": round(r.margin, 3),
                **({"by_words": True} if r.by_words else {})}
        for field, r in candidates.items()
    }
    promoted = None
    name = (intent or {}).get("name")
    confidence = float((intent or {}).get("confidence") or 0.0)
    # Several details in a statement describe a workload whatever topic it resembles
    # ("We're moving off VMware. About 200 servers, ..."), and so does a short reply
    # naming one ("windows only"); a question keeps its topic.
    details = {e["entity"] for e in entities if e.get("entity") in fields}
    # A statement describes a workload when it has several details, is a short reply
    # naming one, or says one plainly ("dozens of containers per host" resembles the
    # density topic, but tells us the visitor's density; "windows server 2019 and some
    # linux" resembles the OS topic, but names the visitor's systems).
    # Naming systems is describing them only without the topics' own words: "windows
    # containers on linux hosts" is about containers.
    named = (any(e.get("entity") in NAMED_FIELDS for e in entities)
             and not _TOPIC_WORDS.search(text))
    describes = statement and (len(details) >= 2 or (details and len(words) <= 4) or (
        len(words) <= PLAIN_DETAIL_WORDS
        and (named or any(r.score >= PLAIN_DETAIL for r in readings))))
    # A short reply that is one of the short answers ("slow is fine") answers whatever
    # was asked, even if it resembles a topic.
    short_reply = statement and len(text.split()) <= SHORT_REPLY_WORDS and any(
        reading.score >= SHORT_REPLY_SCORE for reading in candidates.values())
    if details and name in KEPT_INTENTS and confidence < PROMOTE_BELOW:
        promoted = str(name)  # the right intent, unsure of itself: keep it, confidently
    elif name in KEPT_INTENTS:
        pass
    elif (details and statement and (name in PROMOTED_INTENTS or confidence < PROMOTE_BELOW
                                     or describes)) or (
        short_reply and confidence < SHORT_REPLY_BELOW and name not in KEEP_SHORT_INTENTS
    ):
        promoted = ANSWER_INTENT
    return entities, candidate_data, promoted


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class AnswerFieldExtractor(GraphComponent):  # type: ignore[misc]
    """Rasa component around `read_message`; it trains nothing (the options are data)."""

    def __init__(self, reader: AnswerReader | None = None) -> None:
        self._reader = reader

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> AnswerFieldExtractor:
        return cls()

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> AnswerFieldExtractor:
        # Built on load, not on the first visitor's message: the descriptions' embeddings
        # take a second or two.
        return cls(shared_reader())

    def process(self, messages: list[Message]) -> list[Message]:
        reader = self._reader or shared_reader()
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip() or text.startswith("/"):
                continue
            entities, candidates, promoted = read_message(
                text, message.get(INTENT), message.get(ENTITIES) or [], reader)
            message.set(ENTITIES, entities, add_to_output=True)
            message.set(CANDIDATES, candidates, add_to_output=True)
            if promoted:
                intent = {"name": promoted, "confidence": 1.0}
                message.set(INTENT, intent, add_to_output=True)
                # The fallback's ambiguity test reads the ranking: put the answer first.
                ranking = [r for r in message.get(INTENT_RANKING_KEY) or []
                           if r.get("name") != promoted]
                message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
