"""Benchmark our assistant against the stock `rasa init` configuration, side by side.

    .venv/bin/python -m bench.run            # full run (trains both, ~15-25 min here)
    .venv/bin/python -m bench.run --quick    # fewer samples, reuses trained models
    .venv/bin/python -m bench.run --soak 600 # ours only: 10 min at a steady rate

Both assistants are trained on the same `data/` and `domain.yml`, started one after the
other (cold starts never overlap) with the same action server code, channel credentials
and database (a SQLite file each), and then measured interleaved through the REST webhook on
loopback: only one of them is under load at any moment, and background load on a shared
machine hits both alike. Results go to `bench/out/results.json` (`soak.json` for a soak).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from bench import measure, visitor
from bench.training import train
from bot.launcher import (
    REST_WEBHOOK,
    ServerProcess,
    Stack,
    current_rss_mb,
    free_ports,
    new_sender,
    start_stack,
    wait_for_reply,
)
from bot.settings import PROJECT_ROOT

OUT_DIR = PROJECT_ROOT / "bench" / "out"
# shared/ sits beside the project root (see DEVELOPERS.md); measured on, never trained on.
DEV_SET = PROJECT_ROOT.parent / "shared" / "data" / "real_questions_dev.yml"
TOKEN = "bench-token"  # the HTTP API's (/model/parse, trackers); REST turns use measure's
CONFIGS = {
    "ours": (PROJECT_ROOT / "config.yml", OUT_DIR / "models" / "ours"),
    "stock": (PROJECT_ROOT / "bench" / "stock_config.yml", OUT_DIR / "models" / "stock"),
}
# The per-conversation rate limit guards the public channels; the benchmark's load
# generator would trip it, for both assistants alike.
# The REST channel is off unless REST_CHANNEL_TOKEN is set (bot/channels/rest.py).
SERVER_ENV = {"RATE_LIMIT_MESSAGES": "0", "REST_CHANNEL_TOKEN": measure.REST_TOKEN}

# NLU parse and the warm-cache FAQ figure repeat these (already seen by the encoder).
WARM_FAQ_TEXTS = tuple(visitor.faq_question(n) for n in range(4))
PARSE_TEXTS = (*WARM_FAQ_TEXTS, "hello", "I want to talk to sales", "thanks, bye")
CONCURRENCY = (1, 8, 32)
# Our tracker store class, as the product runs it.
PRODUCT_TRACKER_STORE = str(
    yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())["tracker_store"]["type"])


def load_dev_set(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs of a Rasa NLU file."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(str(m.get("text")), str(m.get("intent"))) for m in data.intent_examples]


def tracker_store_for(kind: str, workdir: Path, name: str) -> dict[str, Any] | None:
    """The tracker store of one side: `kind` is a `--tracker` choice.

    `sqlite` gives each side its own project's store class on a fresh SQLite file: ours
    the one in endpoints.yml (it keeps trackers between turns, see bot/rasa/tracker_store.py), stock
    Rasa's `SQLTrackerStore`, which is what a `rasa init` project set to SQLite runs.
    `rasa-sqlite` gives both sides Rasa's class, to separate the store's share of a
    turn from the pipeline's.
    """
    if kind == "memory":
        return None
    store_type = PRODUCT_TRACKER_STORE if kind == "sqlite" and name != "stock" else "SQL"
    return {"type": store_type, "dialect": "sqlite", "db": str(workdir / f"{name}-tracker.db")}


def ensure_model(name: str, args: argparse.Namespace, logdir: Path) -> tuple[Path, float | None,
                                                                            bool]:
    """Train (or reuse) the model of `name`; return it, the training time and if measured."""
    config, out_dir = CONFIGS[name]
    timing_file = out_dir / f"{name}.train.json"
    existing = out_dir / f"{name}.tar.gz"
    if args.reuse_models and existing.exists():
        previous = json.loads(timing_file.read_text()) if timing_file.exists() else {}
        return existing, previous.get("seconds"), False
    print(f"==> training {name} ({config.relative_to(PROJECT_ROOT)}) into {out_dir}",
          flush=True)
    model, seconds = train(config, out_dir, name, force=True,
                           log_path=logdir / f"train-{name}.log", domain=args.domain)
    timing_file.write_text(json.dumps({"seconds": seconds, "at": time.time()}))
    print(f"    trained in {seconds:.1f} s", flush=True)
    return model, seconds, True


@dataclass
class Served:
    """One assistant's running servers during the benchmark."""

    name: str
    stack: Stack
    cold_start_s: float

    @property
    def rasa(self) -> ServerProcess:
        return self.stack.rasa

    @property
    def actions(self) -> ServerProcess:
        return self.stack.actions

    @property
    def actions_ready_s(self) -> float | None:
        return self.stack.actions.ready_after

    @property
    def url(self) -> str:
        return self.stack.url

    def stop(self) -> None:
        self.stack.stop()


async def serve(name: str, model: Path, ports: tuple[int, int], args: argparse.Namespace,
                workdir: Path) -> Served:
    """Start `name`'s action server and Rasa server; time the cold start."""
    # Ours as endpoints.yml has it (the domain only to the actions that read it); stock
    # with Rasa's defaults, as `rasa init` writes them.
    stack = start_stack(model, workdir, name=name, ports=ports,
                        tracker_store=tracker_store_for(args.tracker, workdir, name),
                        action_endpoint={} if name == "stock" else None,
                        auth_token=TOKEN, env=SERVER_ENV, ready_timeout=900.0)
    try:
        # From spawning the Rasa server, so the wait for its port is part of it.
        cold = wait_for_reply(stack.rasa, 900.0, headers=measure.REST_HEADERS,
                              webhook=args.webhook, answered=measure.answered)
    except BaseException:
        stack.stop()
        raise
    print(f"    {name}: cold start {cold:.1f} s", flush=True)
    return Served(name, stack, cold)


def _orders(names: list[str]) -> Iterator[list[str]]:
    """Alternate who goes first, so that neither side always follows the other."""
    for i in itertools.count():
        yield names if i % 2 == 0 else names[::-1]


async def bench_all(models: dict[str, Path], args: argparse.Namespace, workdir: Path,
                    labelled: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """Serve every assistant at once and measure them interleaved, request by request.

    The servers are started one after the other (cold starts do not overlap), then both
    stay up but only one is ever under load: sequential requests alternate between them
    and load phases are split into alternating slices. Background load on a shared
    machine therefore hits both sides alike.
    """
    names = list(models)
    ports = free_ports(2 * len(names))
    served: dict[str, Served] = {}
    try:
        for i, name in enumerate(names):
            served[name] = await serve(name, models[name], (ports[2 * i], ports[2 * i + 1]),
                                       args, workdir)
        return await _measure(served, args, labelled)
    finally:
        for item in served.values():
            item.stop()


@dataclass
class Sequential:
    """Sequential turns of one measurement, the same conversations on every side.

    `latency[name][c][t]` is the seconds of turn t of conversation c on side `name`,
    `ok` says whether it answered, and `actions` lists the actions it ran (from the
    tracker), so that turns where the sides did different work can be left out.
    """

    conversations: list[tuple[visitor.Turn, ...]]
    latency: dict[str, list[list[float]]]
    ok: dict[str, list[list[bool]]]
    actions: dict[str, list[list[list[str]]]]

    def comparable(self, c: int, t: int) -> bool:
        """Both sides answered turn t of conversation c and ran the same actions."""
        sides = list(self.actions)
        first = self.actions[sides[0]][c][t]
        return all(self.ok[n][c][t] and self.actions[n][c][t] == first for n in sides)

    def stats(self, kind: str | None = None) -> dict[str, Any]:
        """Per side: latency of the comparable turns (of `kind`), errors, and the
        turns left out because the sides did different work (with what each ran)."""
        picked = [(c, t) for c, conv in enumerate(self.conversations)
                  for t, turn in enumerate(conv) if kind is None or turn.kind == kind]
        fair = [(c, t) for c, t in picked if self.comparable(c, t)]
        left_out: dict[tuple[Any, ...], int] = {}
        for c, t in picked:
            if (c, t) not in fair:
                turn = self.conversations[c][t]
                key = (turn.kind, turn.text, *(
                    " ".join(self.actions[n][c][t]) if self.ok[n][c][t] else "(failed)"
                    for n in self.actions))
                left_out[key] = left_out.get(key, 0) + 1
        return {
            "turns": len(picked),
            "compared": len(fair),
            "sides": {n: {**asdict(measure.LatencyStats.of([self.latency[n][c][t]
                                                            for c, t in fair])),
                          "errors": sum(not self.ok[n][c][t] for c, t in picked)}
                      for n in self.latency},
            "left_out": [{"kind": k[0], "text": k[1],
                          "actions": dict(zip(self.actions, k[2:], strict=True)),
                          "times": times} for k, times in left_out.items()],
        }


async def sequential(served: dict[str, Served], conversations: list[tuple[visitor.Turn, ...]],
                     orders: Iterator[list[str]], webhook: str) -> Sequential:
    """Run `conversations` one turn at a time, alternating sides turn by turn."""
    import aiohttp

    names = list(served)
    result = Sequential(conversations, {n: [] for n in names}, {n: [] for n in names},
                        {n: [] for n in names})
    async with aiohttp.ClientSession() as session:
        for conv in conversations:
            senders = {n: new_sender("seq") for n in names}
            for n in names:
                result.latency[n].append([])
                result.ok[n].append([])
            for turn in conv:
                for name in next(orders):
                    r = await measure.send_turn(session, served[name].url, senders[name],
                                                turn.text, webhook)
                    result.latency[name][-1].append(r.latency_s)
                    result.ok[name][-1].append(r.ok)
            for name in names:
                ran = await measure.actions_per_turn(session, served[name].url, TOKEN,
                                                     senders[name])
                ran += [[] for _ in range(len(conv) - len(ran))]  # a lost turn ran nothing
                result.actions[name].append(ran[-len(conv):])
    return result


def encoder_latency(texts: list[str]) -> dict[str, Any] | None:
    """The sentence encoder's time per message, in this process: new texts, then cached.

    None when the encoder cannot be loaded here (e.g. a pipeline without it).
    """
    try:
        from bot.encoder.minilm import MiniLMEncoder

        encoder = MiniLMEncoder.from_package()
    except Exception as exc:  # reported; the rest of the run goes on
        print(f"    sentence encoder not measured: {exc}", flush=True)
        return None
    encoder.encode(["warm up the numpy kernels"])
    cold, warm = [], []
    for text in texts:
        started = time.perf_counter()
        encoder.encode([text])
        cold.append(time.perf_counter() - started)
    for text in texts:
        started = time.perf_counter()
        encoder.encode([text])
        warm.append(time.perf_counter() - started)
    return {"new_text": asdict(measure.LatencyStats.of(cold)),
            "cached": asdict(measure.LatencyStats.of(warm)), "texts": len(texts)}


async def _measure(served: dict[str, Served], args: argparse.Namespace,
                   labelled: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    import aiohttp

    names = list(served)
    orders = _orders(names)
    # Conversation numbers (and so FAQ texts, see bench/visitor.py): 0 warms up, 1..C are
    # measured one turn at a time, and the FAQ questions after them are new to the
    # encoder's cache for the cold figures; the load phases start at 1000.
    count = max(4, args.samples // 8)
    for item in served.values():
        # Lazily built parts (tokenisers, TF graphs, the action server's imports).
        await measure.turn_latency(item.url, visitor.texts(0), 16, turns_per_conversation=16,
                                   webhook=args.webhook)

    print(f"    {count} visitor conversations, turn by turn", flush=True)
    visits = await sequential(served, [visitor.conversation(n) for n in range(1, count + 1)],
                              orders, args.webhook)
    fresh = visitor.fresh_faq_questions(2 * (count + 1))
    faq_count = max(10, args.samples // 2)
    faq_cold = await sequential(
        served, [tuple(visitor.Turn(visitor.FAQ, next(fresh)) for _ in range(5))
                 for _ in range(faq_count // 5)], orders, args.webhook)
    faq_warm = await sequential(
        served, [tuple(visitor.Turn(visitor.FAQ, WARM_FAQ_TEXTS[(i + j) % 4]) for j in range(5))
                 for i in range(faq_count // 5)], orders, args.webhook)

    parse: dict[str, list[float]] = {n: [] for n in names}
    parse_new: dict[str, list[float]] = {n: [] for n in names}
    async with aiohttp.ClientSession() as session:
        for i in range(args.samples):
            for name in next(orders):
                parse[name].append(await measure.parse_once(
                    session, served[name].url, TOKEN, PARSE_TEXTS[i % len(PARSE_TEXTS)]))
        for _ in range(faq_count):
            text = next(fresh)
            for name in next(orders):
                parse_new[name].append(await measure.parse_once(
                    session, served[name].url, TOKEN, text))

    slices = 3
    load: dict[str, list[measure.LoadResult]] = {n: [] for n in names}
    for level in CONCURRENCY:
        collected: dict[str, list[measure.TurnResult]] = {n: [] for n in names}
        elapsed = dict.fromkeys(names, 0.0)
        for part in range(slices):
            for name in next(orders):
                # The same conversations on both sides, slice by slice.
                results, seconds = await measure.run_load(
                    served[name].url, visitor.texts, level, args.duration / slices,
                    args.webhook, first=1000 + 10_000 * part)
                collected[name] += results
                elapsed[name] += seconds
        for name in names:
            result = measure.summarize_load(level, collected[name], elapsed[name])
            load[name].append(result)
            print(f"    {name}: {level:>2} conversations -> {result.turns_per_s:.1f} turns/s,"
                  f" {result.errors} errors, p95 {result.latency.p95_ms:.0f} ms", flush=True)

    per_kind = {kind: visits.stats(kind) for kind in visitor.KINDS}
    cold, warm = faq_cold.stats(), faq_warm.stats()
    figures: dict[str, dict[str, Any]] = {}
    for name, item in served.items():
        scores = await measure.intent_scores(item.url, TOKEN, labelled) if labelled else None
        figures[name] = {
            "cold_start_s": item.cold_start_s,
            "action_server_ready_s": item.actions_ready_s,
            "parse": asdict(measure.LatencyStats.of(parse[name])),
            "parse_new_text": asdict(measure.LatencyStats.of(parse_new[name])),
            "faq_turn_new_text": cold["sides"][name],
            "faq_turn_repeated_text": warm["sides"][name],
            "turns": {kind: stats["sides"][name] for kind, stats in per_kind.items()},
            "load": [{**asdict(r), "error_rate": r.error_rate} for r in load[name]],
            "peak_rss_mb": {"rasa": item.rasa.peak_rss_mb(),
                            "actions": item.actions.peak_rss_mb()},
            "intents": asdict(scores) if scores else None,
        }
    if len(names) > 1:
        # What was left out of the comparison, and why (shared by both sides).
        figures["fairness"] = {
            "faq_turn_new_text": {k: v for k, v in cold.items() if k != "sides"},
            "faq_turn_repeated_text": {k: v for k, v in warm.items() if k != "sides"},
            **{kind: {k: v for k, v in stats.items() if k != "sides"}
               for kind, stats in per_kind.items()},
        }
    if "ours" in figures:
        figures["ours"]["encoder"] = encoder_latency(
            [next(fresh) for _ in range(max(50, args.samples))])
    return figures


# ---- report ----------------------------------------------------------------------------

def _ratio(ours: float | None, stock: float | None) -> float | None:
    if ours is None or stock is None or not stock or math.isnan(ours) or math.isnan(stock):
        return None
    return ours / stock


def _load_at(figures: dict[str, Any], level: int) -> dict[str, Any]:
    return next(item for item in figures["load"] if item["concurrency"] == level)


# Ratio targets of issue 14 (p95 of a kind of turn, ours/stock).
TURN_TARGETS = {visitor.FORM_START: 0.3, visitor.FORM_ANSWER: 0.3}
FAQ_TARGET = 0.5
ENCODER_TARGET_MS = 5.0  # issue 10: p50 per new message


def compare(ours: dict[str, Any], stock: dict[str, Any],
            fairness: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rows of the side-by-side table: metric, ours, stock, ratio, target, pass.

    A row over turns where the two sides ran different actions gets no ratio: the
    turns are left out, the row says how many, and `refusals` lists them.
    """
    rows: list[dict[str, Any]] = []
    fairness = fairness or {}

    def row(metric: str, o: float | None, s: float | None, target: str = "",
            passed: bool | None = None, unit: str = "", note: str = "") -> None:
        rows.append({"metric": metric, "unit": unit, "ours": o, "stock": s,
                     "ratio": None if note.startswith("no ratio") else _ratio(o, s),
                     "target": target, "pass": passed, "note": note})

    def le(o: float | None, s: float | None, limit: float) -> bool | None:
        r = _ratio(o, s)
        return None if r is None else r <= limit

    def turn_rows(label: str, key: str, o: dict[str, Any], s: dict[str, Any],
                  limit: float | None, pcts: tuple[str, ...] = ("p50", "p95")) -> None:
        fair = fairness.get(key, {})
        compared, total = fair.get("compared", 0), fair.get("turns", 0)
        note = ""
        if fair and compared == 0:
            note = "no ratio: the sides never ran the same actions"
        elif compared < total:
            note = f"{total - compared} of {total} turns left out: different actions"
        if o.get("errors") or s.get("errors"):
            note += f"{'; ' if note else ''}errors ours {o['errors']}, stock {s['errors']}"
        for pct in pcts:
            ov, sv = o[f"{pct}_ms"], s[f"{pct}_ms"]
            is_target = limit is not None and pct == "p95"
            passed = le(ov, sv, limit) if is_target and limit is not None else None
            if note.startswith("no ratio"):
                passed = None
            row(f"{label} {pct}", ov, sv, f"<= {limit}x" if is_target else "", passed, "ms",
                note if pct == pcts[-1] else "")

    row("NLU parse p50 (repeated)", ours["parse"]["p50_ms"], stock["parse"]["p50_ms"],
        unit="ms")
    row("NLU parse p50 (new text)", ours["parse_new_text"]["p50_ms"],
        stock["parse_new_text"]["p50_ms"], unit="ms")
    enc = ours.get("encoder")
    if enc:
        p50 = enc["new_text"]["p50_ms"]
        row("encoder p50 (new text)", p50, None, f"<= {ENCODER_TARGET_MS:g} ms",
            p50 <= ENCODER_TARGET_MS, "ms")
        row("encoder p50 (cached)", enc["cached"]["p50_ms"], None, "", None, "ms")
    turn_rows("FAQ new text", "faq_turn_new_text", ours["faq_turn_new_text"],
              stock["faq_turn_new_text"], FAQ_TARGET, ("p50", "p95", "p99"))
    turn_rows("FAQ repeated (warm)", "faq_turn_repeated_text",
              ours["faq_turn_repeated_text"], stock["faq_turn_repeated_text"], None)
    for kind in visitor.KINDS:
        turn_rows(f"visit: {kind}", kind, ours["turns"][kind], stock["turns"][kind],
                  TURN_TARGETS.get(kind, FAQ_TARGET if kind == visitor.FAQ else None))
    for level in CONCURRENCY:
        o, s = _load_at(ours, level), _load_at(stock, level)
        target = level == 8
        ratio = _ratio(o["turns_per_s"], s["turns_per_s"])
        passed = None if not target or ratio is None else ratio >= 3.0 and o["errors"] == 0
        row(f"throughput @{level}", o["turns_per_s"], s["turns_per_s"],
            ">= 3x, 0 errors" if target else "", passed, "turns/s")
        row(f"errors @{level}", o["errors"], s["errors"], "", None, "turns")
        row(f"turn p95 @{level}", o["latency"]["p95_ms"], s["latency"]["p95_ms"], "", None,
            "ms")
    row("cold start", ours["cold_start_s"], stock["cold_start_s"], "<= 0.5x",
        le(ours["cold_start_s"], stock["cold_start_s"], 0.5), "s")
    row("peak RSS rasa", ours["peak_rss_mb"]["rasa"], stock["peak_rss_mb"]["rasa"], "<= 0.6x",
        le(ours["peak_rss_mb"]["rasa"], stock["peak_rss_mb"]["rasa"], 0.6), "MiB")
    row("peak RSS actions", ours["peak_rss_mb"]["actions"], stock["peak_rss_mb"]["actions"],
        "", None, "MiB")
    ot, st = ours.get("training_s"), stock.get("training_s")
    row("training time", ot, st, "<= 1.0x", le(ot, st, 1.0), "s")
    if ours["intents"] and stock["intents"]:
        oa, sa = ours["intents"]["accuracy"], stock["intents"]["accuracy"]
        row("dev intent accuracy", oa, sa, ">= 0.85 and +0.05",
            oa >= 0.85 and oa - sa >= 0.05)
        row("dev macro-F1", ours["intents"]["macro_f1"], stock["intents"]["macro_f1"])
    return rows


def single_rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The table of a one-sided run (`--only`): the figures without ratios."""
    rows: list[dict[str, Any]] = []

    def row(metric: str, value: float | None, unit: str, target: str = "",
            passed: bool | None = None) -> None:
        rows.append({"metric": metric, "unit": unit, "ours": value, "stock": None,
                     "ratio": None, "target": target, "pass": passed, "note": ""})

    row("NLU parse p50 (repeated)", figures["parse"]["p50_ms"], "ms")
    row("NLU parse p50 (new text)", figures["parse_new_text"]["p50_ms"], "ms")
    enc = figures.get("encoder")
    if enc:
        p50 = enc["new_text"]["p50_ms"]
        row("encoder p50 (new text)", p50, "ms", f"<= {ENCODER_TARGET_MS:g} ms",
            p50 <= ENCODER_TARGET_MS)
        row("encoder p50 (cached)", enc["cached"]["p50_ms"], "ms")
    for label, stats in (("FAQ new text", figures["faq_turn_new_text"]),
                         ("FAQ repeated (warm)", figures["faq_turn_repeated_text"]),
                         *((f"visit: {k}", v) for k, v in figures["turns"].items())):
        for pct in ("p50", "p95"):
            row(f"{label} {pct}", stats[f"{pct}_ms"], "ms")
    for item in figures["load"]:
        row(f"throughput @{item['concurrency']}", item["turns_per_s"], "turns/s")
        row(f"errors @{item['concurrency']}", item["errors"], "turns")
    row("cold start", figures["cold_start_s"], "s")
    row("peak RSS rasa", figures["peak_rss_mb"]["rasa"], "MiB")
    row("peak RSS actions", figures["peak_rss_mb"]["actions"], "MiB")
    return rows


def refusals(fairness: dict[str, Any]) -> list[str]:
    """One line per turn left out of a comparison: what each side ran."""
    lines = []
    for key, fair in fairness.items():
        for item in fair.get("left_out", []):
            ran = "; ".join(f"{side} ran {acts or 'nothing'}"
                            for side, acts in item["actions"].items())
            lines.append(f"  {key}: {item['text']!r} (x{item['times']}): {ran}")
    return lines


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


def print_table(rows: list[dict[str, Any]], refused: list[str] | None = None) -> None:
    header = f"{'metric':<28} {'unit':<8} {'ours':>9} {'stock':>9} {'ratio':>7}  target"
    print(header)
    print("-" * len(header) + "-" * 14)
    for r in rows:
        verdict = {True: "PASS", False: "FAIL", None: ""}[r["pass"]]
        note = f"  ({r['note']})" if r.get("note") else ""
        print(f"{r['metric']:<28} {r['unit']:<8} {_fmt(r['ours']):>9} {_fmt(r['stock']):>9} "
              f"{_fmt(r['ratio']):>7}  {r['target']} {verdict}{note}")
    if refused:
        print("\nTurns left out of the ratios (the two sides did different work):")
        print("\n".join(refused))


# ---- soak ------------------------------------------------------------------------------

async def soak(model: Path, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Drive ours at a steady rate for `args.soak` seconds, sampling memory every 10 s."""
    served = await serve("soak", model, args.ports, args, workdir)
    try:
        return await _soak_loop(served.url, served.rasa.pid, served.actions.pid, args)
    finally:
        served.stop()


async def _soak_loop(url: str, rasa_pid: int, action_pid: int,
                     args: argparse.Namespace) -> dict[str, Any]:
    import aiohttp

    interval = 1.0 / args.soak_rate
    in_flight = asyncio.Semaphore(64)  # bounded: a stalled server cannot pile up tasks
    results: list[tuple[float, measure.TurnResult]] = []
    samples: list[dict[str, float | None]] = []
    started = time.perf_counter()
    end = started + args.soak
    next_sample = started

    async def one(session: aiohttp.ClientSession, sender: str, text: str) -> None:
        async with in_flight:
            result = await measure.send_turn(session, url, sender, text, args.webhook)
            results.append((time.perf_counter() - started, result))

    async with aiohttp.ClientSession() as session:
        tasks: set[asyncio.Task[None]] = set()
        turn = 0
        sender = new_sender("soak")
        script = visitor.texts(0)
        while (now := time.perf_counter()) < end:
            if now >= next_sample:
                samples.append({"t": now - started, "rasa_mb": current_rss_mb(rasa_pid),
                                "actions_mb": current_rss_mb(action_pid)})
                next_sample += 10.0
            if turn % len(script) == 0:  # the next visitor, with other FAQ questions
                sender = new_sender("soak")
                script = visitor.texts(turn // len(script))
            task = asyncio.create_task(one(session, sender, script[turn % len(script)]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            turn += 1
            await asyncio.sleep(max(0.0, started + turn * interval - time.perf_counter()))
        await asyncio.gather(*tasks)
        samples.append({"t": time.perf_counter() - started, "rasa_mb": current_rss_mb(rasa_pid),
                        "actions_mb": current_rss_mb(action_pid)})

    def slope_mb_per_min(points: list[tuple[float, float]]) -> float | None:
        if len(points) < 2:
            return None
        ts, ms = [t for t, _ in points], [m for _, m in points]
        mean_t, mean_m = sum(ts) / len(ts), sum(ms) / len(ms)
        var = sum((t - mean_t) ** 2 for t in ts)
        return 60.0 * sum((t - mean_t) * (m - mean_m)
                          for t, m in zip(ts, ms, strict=True)) / var

    def drift(key: str) -> dict[str, float | None]:
        # Skip the first minute: allocator pools fill up at the start. The tracker cache
        # (bot/rasa/tracker_store.py) fills for longer, up to its bound, so the second half's slope
        # is reported too: a leak keeps growing there, a bounded cache does not.
        values = [(float(s["t"] or 0.0), float(v)) for s in samples
                  if (v := s[key]) is not None]
        steady = [v for v in values if v[0] >= 60.0] or values
        if len(steady) < 2:
            return {"first": None, "last": None, "max": None, "drift": None,
                    "slope_mb_per_min": None, "second_half_slope_mb_per_min": None}
        ms = [m for _, m in steady]
        return {"first": ms[0], "last": ms[-1], "max": max(ms), "drift": ms[-1] - ms[0],
                "slope_mb_per_min": slope_mb_per_min(steady),
                "second_half_slope_mb_per_min": slope_mb_per_min(
                    [v for v in values if v[0] >= args.soak / 2])}

    errors: dict[str, int] = {}
    for _, r in results:
        if not r.ok:
            errors[r.error] = errors.get(r.error, 0) + 1
    minute = [r.latency_s for t, r in results if t <= 60.0]
    last_minute = [r.latency_s for t, r in results if t >= args.soak - 60.0]
    return {
        "seconds": args.soak, "rate_per_s": args.soak_rate, "turns": len(results),
        "errors": sum(errors.values()), "error_kinds": errors,
        "latency": asdict(measure.LatencyStats.of([r.latency_s for _, r in results])),
        "p95_first_minute_ms": measure.LatencyStats.of(minute).p95_ms,
        "p95_last_minute_ms": measure.LatencyStats.of(last_minute).p95_ms,
        "memory": {"rasa": drift("rasa_mb"), "actions": drift("actions_mb")},
        "samples": samples,
    }


# ---- entry point ---------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="fewer samples and shorter load phases; reuses trained models "
                             "(as --soak does)")
    parser.add_argument("--reuse-models", action="store_true",
                        help="do not retrain when a model exists (training time comes from "
                             "the run that trained it)")
    parser.add_argument("--samples", type=int, default=None,
                        help="sequential requests per latency figure (default 200, quick 40)")
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds per concurrency level (default 30, quick 8)")
    parser.add_argument("--tracker", choices=("sqlite", "rasa-sqlite", "memory"),
                        default="sqlite",
                        help="sqlite: each side's own store class on SQLite (ours: "
                             "endpoints.yml's; stock: Rasa's); rasa-sqlite: Rasa's class "
                             "for both; memory: in-memory for both")
    parser.add_argument("--ports", type=int, nargs=2, default=None, metavar=("RASA", "ACTIONS"),
                        help="soak mode's loopback ports (default: the first free ones "
                             "from 5400; the comparison picks four free ones)")
    parser.add_argument("--webhook", default=REST_WEBHOOK, help="REST webhook path")
    parser.add_argument("--dev-set", type=Path, default=DEV_SET)
    parser.add_argument("--domain", type=Path, default=PROJECT_ROOT / "domain.yml",
                        help="domain file both assistants are trained with")
    parser.add_argument("--only", choices=("ours", "stock"), default=None,
                        help="measure one assistant only (no ratios)")
    parser.add_argument("--soak", type=float, default=None, metavar="SECONDS",
                        help="soak mode: ours only, steady rate, memory sampled every 10 s")
    parser.add_argument("--soak-rate", type=float, default=4.0, help="turns per second")
    parser.add_argument("--out", type=Path, default=None, help="JSON output file")
    args = parser.parse_args(argv)
    if args.quick or args.soak is not None:
        args.reuse_models = True
    args.samples = args.samples or (40 if args.quick else 200)
    args.duration = args.duration or (8.0 if args.quick else 30.0)
    args.ports = tuple(args.ports) if args.ports else tuple(free_ports(2))
    if args.soak is not None and not 10 <= args.soak <= 6 * 3600:
        parser.error("--soak takes 10 to 21600 seconds")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    print(f"==> logs and tracker databases in {workdir}; ports {args.ports}", flush=True)

    if args.soak is not None:
        model, _, _ = ensure_model("ours", args, workdir)
        soaked = asyncio.run(soak(model, args, workdir))
        out = args.out or OUT_DIR / "soak.json"
        out.write_text(json.dumps(soaked, indent=2))
        mem = soaked["memory"]
        print(f"soak {soaked['seconds']:.0f} s at {soaked['rate_per_s']}/s: "
              f"{soaked['turns']} turns, {soaked['errors']} errors {soaked['error_kinds']}")
        for proc in ("rasa", "actions"):
            m = mem[proc]
            print(f"  {proc:<8} RSS {_fmt(m['first'])} -> {_fmt(m['last'])} MiB "
                  f"(max {_fmt(m['max'])}, drift {_fmt(m['drift'])}, "
                  f"{_fmt(m['slope_mb_per_min'])} MiB/min; second half "
                  f"{_fmt(m['second_half_slope_mb_per_min'])} MiB/min)")
        print(f"  p95 first minute {_fmt(soaked['p95_first_minute_ms'])} ms, last minute "
              f"{_fmt(soaked['p95_last_minute_ms'])} ms; JSON in {out}")
        return 0 if soaked["errors"] == 0 else 1

    labelled = load_dev_set(args.dev_set) if args.dev_set.exists() else []
    names = [args.only] if args.only else ["ours", "stock"]
    models = {}
    for name in names:
        models[name] = ensure_model(name, args, workdir)
    print(f"==> measuring {', '.join(names)} (interleaved)", flush=True)
    figures: dict[str, Any] = asyncio.run(bench_all(
        {name: models[name][0] for name in names}, args, workdir, labelled))
    for name in names:
        _, seconds, measured = models[name]
        figures[name]["training_s"] = seconds
        figures[name]["training_measured_this_run"] = measured
    result: dict[str, Any] = {
        "meta": {"at": time.strftime("%Y-%m-%dT%H:%M:%S"), "quick": args.quick,
                 "samples": args.samples, "duration_s": args.duration,
                 "tracker_store": args.tracker, "dev_set": str(args.dev_set),
                 "dev_examples": len(labelled)},
        **figures,
    }
    if len(names) == 2:
        fairness = figures.get("fairness", {})
        rows = compare(figures["ours"], figures["stock"], fairness)
        result["table"] = rows
        result["refused"] = refusals(fairness)
        print()
        print_table(rows, result["refused"])
    else:
        rows = single_rows(figures[names[0]])
        result["table"] = rows
        print()
        print_table(rows)
    out = args.out or OUT_DIR / "results.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"\nJSON in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
