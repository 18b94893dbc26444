"""Client-side measurements against a running Rasa server (aiohttp, loopback only)."""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.channels.rest import rest_conversation_id
from bot.channels.turns import TURN_FAILED_TEXT, TURN_SLOW_TEXT
from bot.launcher import REST_WEBHOOK, new_sender

TURN_TIMEOUT_S = 30.0
# The REST channel is off without REST_CHANNEL_TOKEN and then refuses every turn; the
# bench's servers get this token (bench.run.SERVER_ENV) and every post carries it.
REST_TOKEN = "bench-rest-token"
REST_HEADERS = {"Authorization": f"Bearer {REST_TOKEN}"}
# The channel's own apologies: a 200 that did not answer the visitor.
_NOTICES = frozenset({TURN_FAILED_TEXT, TURN_SLOW_TEXT})


@dataclass
class TurnResult:
    """One message sent through the REST webhook."""

    latency_s: float
    status: int  # 0 when no HTTP answer came back
    replies: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class LatencyStats:
    """Percentiles of a sample of latencies, in milliseconds."""

    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> LatencyStats:
        if not seconds:
            nan = math.nan
            return cls(0, nan, nan, nan, nan, nan)
        ms = sorted(s * 1000.0 for s in seconds)
        return cls(count=len(ms), p50_ms=percentile(ms, 50), p95_ms=percentile(ms, 95),
                   p99_ms=percentile(ms, 99), mean_ms=sum(ms) / len(ms), max_ms=ms[-1])


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Percentile with linear interpolation between ranks (numpy's default method)."""
    if not sorted_values:
        return math.nan
    rank = (len(sorted_values) - 1) * pct / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return sorted_values[low]
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def turn_error(status: int, body: Any) -> str:
    """What went wrong with a webhook answer ("" when the visitor was answered): an HTTP
    error, an empty answer, or the channel's apology for a failed or slow turn."""
    if status != 200:
        return f"HTTP {status}"
    if not isinstance(body, list) or not body:
        return "no reply"
    if any(isinstance(m, dict) and m.get("text") in _NOTICES for m in body):
        return "turn failed or slow"
    return ""


def answered(status: int, body: Any) -> bool:
    """`turn_error` as a yes/no, for `bot.launcher.wait_for_reply` (the cold start)."""
    return not turn_error(status, body)


async def send_turn(session: aiohttp.ClientSession, base_url: str, sender: str, text: str,
                    webhook: str = REST_WEBHOOK) -> TurnResult:
    """Send one message; an HTTP error, a timeout, an empty answer or the channel's
    apology for a failed or slow turn counts as an error."""
    started = time.perf_counter()
    try:
        async with session.post(base_url + webhook, json={"sender": sender, "message": text},
                                headers=REST_HEADERS,
                                timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT_S)) as resp:
            body = await resp.json(content_type=None)
            latency = time.perf_counter() - started
            replies = len(body) if resp.status == 200 and isinstance(body, list) else 0
            return TurnResult(latency, resp.status, replies, turn_error(resp.status, body))
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        return TurnResult(time.perf_counter() - started, 0, 0, type(exc).__name__)


async def turn_latency(base_url: str, texts: Sequence[str], samples: int,
                       turns_per_conversation: int = 5,
                       webhook: str = REST_WEBHOOK) -> tuple[LatencyStats, int]:
    """Time `samples` sequential turns; conversations are short, as real ones are.

    Returns:
        Latency statistics and the number of failed turns.
    """
    latencies: list[float] = []
    errors = 0
    async with aiohttp.ClientSession() as session:
        sender = new_sender("lat")
        for i, text in enumerate(itertools.islice(itertools.cycle(texts), samples)):
            if i % turns_per_conversation == 0:
                sender = new_sender("lat")
            result = await send_turn(session, base_url, sender, text, webhook)
            latencies.append(result.latency_s)
            errors += 0 if result.ok else 1
    return LatencyStats.of(latencies), errors


@dataclass
class LoadResult:
    """Closed-loop load: `concurrency` conversations each sending its next turn at once."""

    concurrency: int
    duration_s: float
    turns: int
    errors: int
    turns_per_s: float
    latency: LatencyStats
    error_kinds: dict[str, int] = field(default_factory=dict)

    @property
    def error_rate(self) -> float:
        return self.errors / self.turns if self.turns else math.nan


async def run_load(base_url: str, script: Callable[[int], Sequence[str]], concurrency: int,
                   duration_s: float, webhook: str = REST_WEBHOOK, first: int = 0
                   ) -> tuple[list[TurnResult], float]:
    """Run `concurrency` conversations for `duration_s` seconds, each replaying a script.

    Args:
        script: the messages of the n-th conversation (numbered from `first`), so that
            conversations can differ as real visitors' do.

    Returns:
        Every turn's result and the elapsed wall time.
    """
    results: list[TurnResult] = []
    deadline = time.perf_counter() + duration_s
    connector = aiohttp.TCPConnector(limit=concurrency + 4)
    numbers = itertools.count(first)

    async def conversation_loop(session: aiohttp.ClientSession) -> None:
        while time.perf_counter() < deadline:
            sender = new_sender(f"tp{concurrency}")
            for text in script(next(numbers)):
                if time.perf_counter() >= deadline:
                    return
                results.append(await send_turn(session, base_url, sender, text, webhook))

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(conversation_loop(session) for _ in range(concurrency)))
    return results, time.perf_counter() - started


def summarize_load(concurrency: int, results: Sequence[TurnResult],
                   elapsed_s: float) -> LoadResult:
    """Throughput, errors and latency of the turns of one or more load phases."""
    kinds: dict[str, int] = {}
    for r in results:
        if not r.ok:
            kinds[r.error] = kinds.get(r.error, 0) + 1
    return LoadResult(concurrency=concurrency, duration_s=elapsed_s, turns=len(results),
                      errors=sum(kinds.values()),
                      turns_per_s=len(results) / elapsed_s if elapsed_s else math.nan,
                      latency=LatencyStats.of([r.latency_s for r in results]),
                      error_kinds=kinds)


async def parse_once(session: aiohttp.ClientSession, base_url: str, token: str,
                     text: str) -> float:
    """Seconds taken by one `/model/parse` call."""
    started = time.perf_counter()
    async with session.post(f"{base_url}/model/parse", params={"token": token},
                            json={"text": text},
                            timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT_S)) as r:
        await r.read()
        if r.status != 200:
            raise RuntimeError(f"/model/parse answered {r.status}")
    return time.perf_counter() - started


@dataclass
class IntentScores:
    """Intent accuracy and macro-F1 of the served model on a labelled set."""

    examples: int
    accuracy: float
    macro_f1: float
    per_intent_f1: dict[str, float]
    mistakes: list[dict[str, str]]


async def intent_scores(base_url: str, token: str,
                        labelled: Sequence[tuple[str, str]]) -> IntentScores:
    """Classify each (text, intent) pair with `/model/parse` and score the top intent.

    The top intent is what the assistant acts on, so an `nlu_fallback` counts as a miss.
    """
    from sklearn.metrics import f1_score

    predicted: list[str] = []
    async with aiohttp.ClientSession() as session:
        for text, _ in labelled:
            async with session.post(f"{base_url}/model/parse", params={"token": token},
                                    json={"text": text},
                                    timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT_S)) as r:
                body: dict[str, Any] = await r.json()
            predicted.append(str((body.get("intent") or {}).get("name")))
    truth = [intent for _, intent in labelled]
    labels = sorted(set(truth) | set(predicted))
    per_intent = f1_score(truth, predicted, labels=labels, average=None, zero_division=0)
    correct = sum(t == p for t, p in zip(truth, predicted, strict=True))
    return IntentScores(
        examples=len(truth),
        accuracy=correct / len(truth) if truth else math.nan,
        macro_f1=float(f1_score(truth, predicted, labels=labels, average="macro",
                                zero_division=0)),
        per_intent_f1={label: round(float(f), 3) for label, f in zip(labels, per_intent,
                                                                      strict=True)},
        mistakes=[{"text": text, "expected": t, "predicted": p}
                  for (text, t), p in zip(labelled, predicted, strict=True) if t != p],
    )


async def actions_per_turn(session: aiohttp.ClientSession, base_url: str, token: str,
                           sender: str) -> list[list[str]]:
    """The actions the server ran after each user message of `sender`'s conversation.

    Forms count as one action per turn (their ask and validation actions run inside).
    """
    async with session.get(f"{base_url}/conversations/{rest_conversation_id(sender)}/tracker",
                           params={"token": token},
                           timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT_S)) as r:
        tracker: dict[str, Any] = await r.json()
    turns: list[list[str]] = []
    for event in tracker.get("events", []):
        if event.get("event") == "user":
            turns.append([])
        elif (turns and event.get("event") == "action"
              and event.get("name") not in ("action_listen", "action_session_start")):
            turns[-1].append(str(event.get("name")))
    return turns

