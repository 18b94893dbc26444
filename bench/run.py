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

from bench import measure
from bench.launcher import (
    PROJECT_ROOT,
    REST_WEBHOOK,
    ServerProcess,
    current_rss_mb,
    free_ports,
    start_action_server,
    start_actions_then_rasa,
    start_rasa_server,
    train,
    write_endpoints,
)

OUT_DIR = PROJECT_ROOT / "bench" / "out"
# shared/ sits beside the project root (see DEVELOPERS.md); measured on, never trained on.
DEV_SET = PROJECT_ROOT.parent / "shared" / "data" / "real_questions_dev.yml"
TOKEN = "bench-token"
CONFIGS = {
    "ours": (PROJECT_ROOT / "config.yml", OUT_DIR / "models" / "ours"),
    "stock": (PROJECT_ROOT / "bench" / "stock_config.yml", OUT_DIR / "models" / "stock"),
}
# The per-conversation rate limit guards the public channels; the benchmark's load
# generator would trip it, for both assistants alike.
SERVER_ENV = {"RATE_LIMIT_MESSAGES": "0"}

# Our own phrasings (not the dev set): an FAQ question answered by a response only.
FAQ_TEXTS = (
    "what is the difference between a virtual machine and a container?",
    "how do containers compare with VMs?",
    "are containers less isolated than virtual machines?",
    "can I run windows inside a container?",
)
# Messages that should end up in a custom action (the fallback with topic buttons);
# the first one that does is used, `--action-text` overrides. The payload skips NLU, so it
# is only the last resort.
ACTION_CANDIDATES = (
    "blorp fizzwick quandle",
    "zzkq vrrp plonk",
    "the weather on mars is purple",
    "/nlu_fallback",
)
PARSE_TEXTS = (*FAQ_TEXTS, "hello", "I want to talk to sales", "thanks, bye")
CONVERSATION = ("hello", FAQ_TEXTS[0], FAQ_TEXTS[2], None, "thanks", "bye")  # None: action turn
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
    the one in endpoints.yml (it keeps trackers between turns, see bot/stores.py), stock
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
    rasa: ServerProcess
    actions: ServerProcess
    cold_start_s: float
    actions_ready_s: float

    @property
    def url(self) -> str:
        return self.rasa.url

    def stop(self) -> None:
        self.rasa.stop()
        self.actions.stop()


async def serve(name: str, model: Path, ports: tuple[int, int], args: argparse.Namespace,
                workdir: Path) -> Served:
    """Start `name`'s action server and Rasa server; time the cold start."""
    rasa_port, action_port = ports
    endpoints = write_endpoints(workdir / f"{name}-endpoints.yml", action_port,
                                tracker_store_for(args.tracker, workdir, name))
    actions, rasa, actions_ready = start_actions_then_rasa(
        lambda: start_action_server(action_port, workdir / f"{name}-actions.log"),
        lambda: start_rasa_server(model, rasa_port, endpoints, workdir / f"{name}-rasa.log",
                                  auth_token=TOKEN, env=SERVER_ENV),
        900.0)
    try:
        # From spawning the server, so the wait above is part of it.
        cold = await measure.wait_first_reply(rasa, 900.0, args.webhook)
    except BaseException:
        rasa.stop()
        actions.stop()
        raise
    print(f"    {name}: cold start {cold:.1f} s", flush=True)
    return Served(name, rasa, actions, cold, actions_ready)


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


async def _measure(served: dict[str, Served], args: argparse.Namespace,
                   labelled: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    import aiohttp

    names = list(served)
    first = served[names[0]]
    custom = await measure.served_custom_actions(first.url, TOKEN)
    chosen, _ = await pick_action_text(first.url, custom, args.action_text, args.webhook)
    script = tuple(chosen if t is None else t for t in CONVERSATION)
    figures: dict[str, dict[str, Any]] = {n: {} for n in names}
    for name, item in served.items():
        figures[name]["faq_actions"] = await measure.actions_of_turn(
            item.url, TOKEN, FAQ_TEXTS[0], args.webhook)
        figures[name]["action_actions"] = await measure.actions_of_turn(
            item.url, TOKEN, chosen, args.webhook)
        # Warm up lazily built parts (tokenisers, TF graphs) before timing anything.
        await measure.turn_latency(item.url, (*FAQ_TEXTS, chosen), 10, webhook=args.webhook)

    parse: dict[str, list[float]] = {n: [] for n in names}
    turns: dict[str, dict[str, list[measure.TurnResult]]] = {
        n: {"faq": [], "action": []} for n in names}
    orders = _orders(names)
    async with aiohttp.ClientSession() as session:
        for i in range(args.samples):
            for name in next(orders):
                parse[name].append(await measure.parse_once(
                    session, served[name].url, TOKEN, PARSE_TEXTS[i % len(PARSE_TEXTS)]))
        for kind, texts in (("faq", FAQ_TEXTS), ("action", (chosen,))):
            senders = {n: "" for n in names}
            for i in range(args.samples):
                for name in next(orders):
                    if i % 5 == 0:  # short conversations, as real ones are
                        senders[name] = measure.new_sender("lat")
                    turns[name][kind].append(await measure.send_turn(
                        session, served[name].url, senders[name], texts[i % len(texts)],
                        args.webhook))

    slices = 3
    load: dict[str, list[measure.LoadResult]] = {n: [] for n in names}
    for level in CONCURRENCY:
        collected: dict[str, list[measure.TurnResult]] = {n: [] for n in names}
        elapsed = dict.fromkeys(names, 0.0)
        for _ in range(slices):
            for name in next(orders):
                results, seconds = await measure.run_load(
                    served[name].url, script, level, args.duration / slices, args.webhook)
                collected[name] += results
                elapsed[name] += seconds
        for name in names:
            result = measure.summarize_load(level, collected[name], elapsed[name])
            load[name].append(result)
            print(f"    {name}: {level:>2} conversations -> {result.turns_per_s:.1f} turns/s,"
                  f" {result.errors} errors, p95 {result.latency.p95_ms:.0f} ms", flush=True)

    for name, item in served.items():
        faq, act = turns[name]["faq"], turns[name]["action"]
        scores = await measure.intent_scores(item.url, TOKEN, labelled) if labelled else None
        figures[name] = {
            "cold_start_s": item.cold_start_s,
            "action_server_ready_s": item.actions_ready_s,
            "parse": asdict(measure.LatencyStats.of(parse[name])),
            "faq_turn": {**asdict(measure.LatencyStats.of([r.latency_s for r in faq])),
                         "errors": sum(not r.ok for r in faq), "text": FAQ_TEXTS,
                         "actions": figures[name]["faq_actions"]},
            "action_turn": {**asdict(measure.LatencyStats.of([r.latency_s for r in act])),
                            "errors": sum(not r.ok for r in act), "text": chosen,
                            "actions": figures[name]["action_actions"]},
            "load": [{**asdict(r), "error_rate": r.error_rate} for r in load[name]],
            "peak_rss_mb": {"rasa": item.rasa.peak_rss_mb(),
                            "actions": item.actions.peak_rss_mb()},
            "intents": asdict(scores) if scores else None,
        }
    return figures


async def pick_action_text(url: str, custom: set[str], forced: str | None,
                           webhook: str) -> tuple[str, list[str]]:
    """The first candidate message whose turn runs a custom action on the action server."""
    candidates = (forced,) if forced else ACTION_CANDIDATES
    for text in candidates:
        ran = await measure.actions_of_turn(url, TOKEN, text, webhook)
        if forced or any(a in custom for a in ran):
            return text, ran
    # Still measured, but the JSON shows which actions actually ran.
    ran = await measure.actions_of_turn(url, TOKEN, candidates[0], webhook)
    return candidates[0], ran


# ---- report ----------------------------------------------------------------------------

def _ratio(ours: float | None, stock: float | None) -> float | None:
    if ours is None or stock is None or not stock or math.isnan(ours) or math.isnan(stock):
        return None
    return ours / stock


def _load_at(figures: dict[str, Any], level: int) -> dict[str, Any]:
    return next(item for item in figures["load"] if item["concurrency"] == level)


def compare(ours: dict[str, Any], stock: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the side-by-side table: metric, ours, stock, ratio, target, pass."""
    rows: list[dict[str, Any]] = []

    def row(metric: str, o: float | None, s: float | None, target: str = "",
            passed: bool | None = None, unit: str = "") -> None:
        rows.append({"metric": metric, "unit": unit, "ours": o, "stock": s,
                     "ratio": _ratio(o, s), "target": target, "pass": passed})

    def le(o: float | None, s: float | None, limit: float) -> bool | None:
        r = _ratio(o, s)
        return None if r is None else r <= limit

    for key, label in (("parse", "NLU parse"), ("faq_turn", "FAQ turn"),
                       ("action_turn", "custom-action turn")):
        for pct in ("p50", "p95", "p99"):
            o, s = ours[key][f"{pct}_ms"], stock[key][f"{pct}_ms"]
            is_target = key != "parse" and pct == "p95"
            row(f"{label} {pct}", o, s, "<= 0.5x" if is_target else "",
                le(o, s, 0.5) if is_target else None, "ms")
    for level in CONCURRENCY:
        o, s = _load_at(ours, level), _load_at(stock, level)
        target = level == 8
        ratio = _ratio(o["turns_per_s"], s["turns_per_s"])
        passed = None if not target or ratio is None else ratio >= 2.0 and o["errors"] == 0
        row(f"throughput @{level}", o["turns_per_s"], s["turns_per_s"],
            ">= 2x, 0 errors" if target else "", passed, "turns/s")
        row(f"errors @{level}", o["errors"], s["errors"], "", None, "turns")
        row(f"turn p95 @{level}", o["latency"]["p95_ms"], s["latency"]["p95_ms"], "", None,
            "ms")
    row("cold start", ours["cold_start_s"], stock["cold_start_s"], "<= 0.6x",
        le(ours["cold_start_s"], stock["cold_start_s"], 0.6), "s")
    row("peak RSS rasa", ours["peak_rss_mb"]["rasa"], stock["peak_rss_mb"]["rasa"], "<= 0.75x",
        le(ours["peak_rss_mb"]["rasa"], stock["peak_rss_mb"]["rasa"], 0.75), "MiB")
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


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


def print_table(rows: list[dict[str, Any]]) -> None:
    header = f"{'metric':<24} {'unit':<8} {'ours':>9} {'stock':>9} {'ratio':>7}  target"
    print(header)
    print("-" * len(header) + "-" * 14)
    for r in rows:
        verdict = {True: "PASS", False: "FAIL", None: ""}[r["pass"]]
        print(f"{r['metric']:<24} {r['unit']:<8} {_fmt(r['ours']):>9} {_fmt(r['stock']):>9} "
              f"{_fmt(r['ratio']):>7}  {r['target']} {verdict}")


# ---- soak ------------------------------------------------------------------------------

async def soak(model: Path, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Drive ours at a steady rate for `args.soak` seconds, sampling memory every 10 s."""
    served = await serve("soak", model, args.ports, args, workdir)
    try:
        custom = await measure.served_custom_actions(served.url, TOKEN)
        chosen, _ = await pick_action_text(served.url, custom, args.action_text, args.webhook)
        script = tuple(chosen if t is None else t for t in CONVERSATION)
        return await _soak_loop(served.url, served.rasa.pid, served.actions.pid, script, args)
    finally:
        served.stop()


async def _soak_loop(url: str, rasa_pid: int, action_pid: int, script: tuple[str, ...],
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
        sender = measure.new_sender("soak")
        while (now := time.perf_counter()) < end:
            if now >= next_sample:
                samples.append({"t": now - started, "rasa_mb": current_rss_mb(rasa_pid),
                                "actions_mb": current_rss_mb(action_pid)})
                next_sample += 10.0
            if turn % len(script) == 0:
                sender = measure.new_sender("soak")
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
        # (bot/stores.py) fills for longer, up to its bound, so the second half's slope
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
    parser.add_argument("--action-text", default=None,
                        help="message for the custom-action turn (default: auto-detected)")
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
        rows = compare(figures["ours"], figures["stock"])
        result["table"] = rows
        print()
        print_table(rows)
    out = args.out or OUT_DIR / "results.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"\nJSON in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
