"""Profile the visitor's turns in-process: where a form turn's time goes (issue 14).

    nice -n 19 .venv/bin/python -m bench.profile_turns              # latest model in models/
    nice -n 19 .venv/bin/python -m bench.profile_turns --cprofile bench/out/form.prof

The Rasa side runs in this process (a Rasa agent with the served model and our tracker
store on a fresh SQLite file), so cProfile sees all of it; the action server is the real
one (`python -m bot.action_server`) on loopback, as in production.

Each variant is a way of calling the action server:
- `rasa-session`: a new HTTP session per call and the whole domain in every call, as
  Rasa 3.6 does (bot/rasa/action_session.py undone in this process);
- `reused-session`: one HTTP session, its connections reused (bot/rasa/action_session.py);
- `selective-domain`: that, and the domain only for the actions marked `send_domain`
  (endpoints.yml's `enable_selective_domain`);
- `slim-payload`: that, and the request of bot/rasa/action_calls.py: past messages without
  the NLU's rankings, a form validation action's domain without the responses. This is
  how the product runs; the three variants above send Rasa's own request.

After one warm-up conversation per variant, `--conversations` visitor conversations
(bench/visitor.py) are sent turn by turn, each conversation to every variant in turn (the
first one changing each time), so that the background load of a shared machine and the
sentence encoder's cache favour none of them. Printed: p50/p95 per
kind of turn and variant in ms, the size of the requests a form turn sends, and the time
of one action call alone (on the tracker of a whole visit, interleaved the same way).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import pstats
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import visitor
from bench.measure import LatencyStats
from bot.launcher import LaunchError, free_ports, model_to_serve, start_action_server
from bot.rasa import action_calls, action_session

VARIANTS = ("rasa-session", "reused-session", "selective-domain", "slim-payload")
# The action every form turn calls, and the one its last turn calls; their request sizes
# are reported. (A form turn made a second call, `action_ask_<question>`, until Rasa
# asked the questions itself: actions/advisor.py.)
FORM_ACTIONS = ("validate_advisor_form", "action_recommend")
TIMED_ACTION = "action_recommend"


@dataclass
class Variant:
    """One way of calling the action server, with its own agent and tracker database."""

    name: str
    agent: Any
    endpoint: Any
    turns: dict[str, list[float]] = field(
        default_factory=lambda: {kind: [] for kind in visitor.KINDS})
    calls: list[float] = field(default_factory=list)

    @contextmanager
    def in_effect(self) -> Iterator[None]:
        """The HTTP session and the request of this variant, for the calls made inside."""
        from rasa.core.actions.action import RemoteAction

        if self.name == "rasa-session":
            action_session.uninstall()
        else:
            action_session.install()
        RemoteAction._action_call_format = (
            action_calls.action_call_payload if self.name == "slim-payload"
            else action_calls.RASA_ACTION_CALL_FORMAT)
        yield


async def load_variant(name: str, model: Path, action_url: str, workdir: Path) -> Variant:
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import TrackerStore
    from rasa.utils.endpoints import EndpointConfig

    selective = name in ("selective-domain", "slim-payload")
    options = {"enable_selective_domain": True} if selective else {}
    endpoint = EndpointConfig(url=action_url, **options)
    store = TrackerStore.create(
        EndpointConfig(type="bot.rasa.tracker_store.StrictSQLTrackerStore", dialect="sqlite",
                       db=str(workdir / f"{name}-tracker.db")))
    agent = Agent.load(str(model), tracker_store=store, action_endpoint=endpoint)
    return Variant(name, agent, endpoint)


async def send_conversation(variant: Variant, conversation: tuple[visitor.Turn, ...],
                            sender: str, profiler: cProfile.Profile | None = None) -> None:
    """Send one conversation turn by turn, adding each turn's seconds to its kind."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    with variant.in_effect():
        for turn in conversation:
            message = UserMessage(turn.text, CollectingOutputChannel(), sender)
            if profiler:
                profiler.enable()
            started = time.perf_counter()
            await variant.agent.handle_message(message)
            variant.turns[turn.kind].append(time.perf_counter() - started)
            if profiler:
                profiler.disable()


async def last_tracker(variant: Variant) -> Any:
    store = variant.agent.tracker_store
    return await store.retrieve(sorted(await store.keys())[-1])


def request_bytes(variant: Variant, tracker: Any) -> dict[str, int]:
    """Bytes of JSON in each form action's request, on the tracker of a whole visit."""
    from rasa.core.actions.action import RemoteAction

    with variant.in_effect():
        return {name: len(json.dumps(RemoteAction(name, variant.endpoint)
                                     ._action_call_format(tracker, variant.agent.domain)))
                for name in FORM_ACTIONS}


async def time_call(variant: Variant, tracker: Any) -> None:
    """One call of `TIMED_ACTION` alone, as Rasa's processor makes it."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel

    with variant.in_effect():
        action = RemoteAction(TIMED_ACTION, variant.endpoint)
        started = time.perf_counter()
        await action.run(CollectingOutputChannel(), variant.agent.nlg, tracker,
                         variant.agent.domain)
        variant.calls.append(time.perf_counter() - started)


async def profile(args: argparse.Namespace, workdir: Path, action_url: str) -> dict[str, Any]:
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    # The log level `rasa run` serves at: debug logging would be most of a turn here.
    configure_logging_and_warnings(logging.INFO)
    configure_structlog(logging.INFO)
    variants = [await load_variant(name, args.model, action_url, workdir)
                for name in args.variants]
    profiled = variants[-1].name
    profiler = cProfile.Profile() if args.cprofile else None
    try:
        for number in range(args.conversations + 1):  # 0 warms up and is not kept
            # Whoever goes first meets new FAQ texts the sentence encoder (one cache per
            # process) has not seen; taking turns at going first keeps that fair.
            for variant in variants[number % len(variants):] + variants[:number % len(variants)]:
                await send_conversation(variant, visitor.conversation(number),
                                        f"profile-{variant.name}-{number}",
                                        profiler if number and variant.name == profiled
                                        else None)
                if number == 0:
                    variant.turns = {kind: [] for kind in visitor.KINDS}
        trackers = {v.name: await last_tracker(v) for v in variants}
        for _ in range(args.calls):
            for variant in variants:
                await time_call(variant, trackers[variant.name])
    finally:
        action_session.install()
        await action_session.close_sessions()
    if profiler and args.cprofile:
        profiler.dump_stats(str(args.cprofile))
        print(f"cProfile of the {profiled} turns:")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
    return {
        "model": str(args.model),
        "conversations": args.conversations,
        "variants": {
            v.name: {
                "turns": {kind: asdict(LatencyStats.of(s)) for kind, s in v.turns.items()},
                "call": asdict(LatencyStats.of(v.calls)),
                "request_bytes": request_bytes(v, trackers[v.name]),
            } for v in variants},
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_turns", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None,
                        help="default: the newest model in models/ (scripts/train.sh's)")
    parser.add_argument("--conversations", type=int, default=8)
    parser.add_argument("--calls", type=int, default=60,
                        help="single action calls timed per variant at the end")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--cprofile", type=Path, default=None,
                        help="profile the last variant's turns into this file, print the top")
    parser.add_argument("--top", type=int, default=40, help="functions printed by --cprofile")
    parser.add_argument("--out", type=Path, default=None, help="JSON output file")
    args = parser.parse_args(argv)
    try:
        args.model = model_to_serve(args.model)
    except LaunchError as exc:
        parser.error(str(exc))
    return args


def print_table(result: dict[str, Any]) -> None:
    variants = result["variants"]
    print(f"{'p50 / p95 ms':<16}" + "".join(f"{name:>20}" for name in variants))
    for kind in visitor.KINDS:
        cells = [f"{v['turns'][kind]['p50_ms']:.1f} / {v['turns'][kind]['p95_ms']:.1f}"
                 for v in variants.values()]
        print(f"{kind:<16}" + "".join(f"{cell:>20}" for cell in cells))
    cells = [f"{v['call']['p50_ms']:.1f} / {v['call']['p95_ms']:.1f}" for v in variants.values()]
    print(f"{'one call alone':<16}" + "".join(f"{cell:>20}" for cell in cells))
    for name, v in variants.items():
        print(f"request bytes, {name}: {v['request_bytes']}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="profile-turns-"))
    (port,) = free_ports(1)
    actions = start_action_server(port, workdir / "actions.log", data_dir=workdir)
    try:
        actions.wait_ready(120.0)
        result = asyncio.run(profile(args, workdir, actions.url + "/webhook"))
    finally:
        actions.stop()
    print_table(result)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
