"""The `omniroute` command."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import structlog
import uvicorn
from fastapi import FastAPI

from services.agents.auth import Role, new_key, store_key
from shared.bus.kafka import KafkaBus
from shared.config import Settings
from shared.db import create_engine, session_factory
from shared.db.migrate import upgrade, upgrade_async
from shared.events import COMPACTED_TOPICS, TOPICS, json_schemas
from shared.observability import configure_logging
from shared.process import tune_garbage_collector
from shared.runtime import Runtime, bootstrap

if TYPE_CHECKING:
    from omniroute.simulate import Scenario

log = structlog.get_logger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="omniroute", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="all services in one process (LocalBus + SQLite by default)")
    commands.add_parser("channels", help="the channels service alone (webhooks, delivery)")
    commands.add_parser("router", help="the router service alone")
    agents = commands.add_parser("agents", help="the agents service alone (REST API, statistics)")
    agents.add_argument(
        "--rebuild",
        action="store_true",
        help="first rebuild the read model from cc.routing.v1 (stop other agents processes)",
    )
    commands.add_parser("migrate", help="bring the database schema up to date")
    sim = commands.add_parser("simulate", help="simulate a queue over the real routing core")
    sim.add_argument(
        "--scenario",
        type=Path,
        help="a YAML file: queues, channels, teams, shifts, a time-of-day profile, a bot "
        "(docs/scenarios/retail.yaml); instead of the one-queue flags",
    )
    sim.add_argument("--agents", type=int)
    sim.add_argument("--arrival-rate-per-hour", type=float)
    sim.add_argument("--aht-s", type=float, help="mean handle time")
    sim.add_argument(
        "--wrap-up-s",
        type=int,
        default=0,
        help="after-contact work: seconds an agent's slot stays taken after each close",
    )
    sim.add_argument("--patience-s", type=float, help="mean patience; unset: nobody abandons")
    sim.add_argument("--sl-target-s", type=float, default=20)
    sim.add_argument("--hours", type=float, help="default 100, or the scenario file's")
    sim.add_argument("--seed", type=int, help="default 1, or the scenario file's")
    sim.add_argument("--handle", choices=["exponential", "lognormal"], default="exponential")
    sim.add_argument("--json", action="store_true", help="print one JSON object")
    sim.add_argument(
        "--compare",
        action="store_true",
        help="run omniroute's policy and round robin, least busy and longest idle on a desk "
        "with specialists; print a table and draw comparison.png",
    )
    sim.add_argument(
        "--out", type=Path, default=Path("."), help="where the CSV and PNG go (without --json)"
    )
    schema = commands.add_parser("schema", help="write the JSON Schema of every event")
    schema.add_argument("--out", type=Path, default=Path("docs/events"))
    topics = commands.add_parser("topics", help="Kafka topics")
    topic_commands = topics.add_subparsers(dest="topics_command", required=True, metavar="ACTION")
    topic_commands.add_parser(
        "create",
        help="create the topics that are missing (OMNIROUTE_KAFKA_PARTITIONS, "
        "OMNIROUTE_KAFKA_REPLICATION_FACTOR; cc.config.v1 compacted)",
    )
    keys = commands.add_parser("keys", help="API keys of the agents service")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = key_commands.add_parser(
        "create", help="create a key; prints it alone on the last line"
    )
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--agent", help="the agent an agent key belongs to")
    create.add_argument("--tenant", help="default: OMNIROUTE_DEMO_TENANT")
    create.add_argument("--name", help="what the key is for")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)

    settings = Settings()
    configure_logging(settings.log_level)
    match args.command:
        case "run":
            return _run_embedded(settings)
        case "channels":
            from services.channels.app import create_app as channels

            return _serve(settings, channels)
        case "router":
            from services.router.service import create_app as router

            return _serve(settings, router)
        case "agents":
            from services.agents.app import create_app as agents_app

            if args.rebuild:
                asyncio.run(_rebuild(settings))
            return _serve(settings, agents_app)
        case "migrate":
            upgrade(settings.effective_database_url)
            log.info("database.migrated")
            return 0
        case "schema":
            return _write_schemas(args.out)
        case "simulate":
            return _simulate(args)
        case "keys":
            return asyncio.run(_create_key(settings, args))
        case "topics":
            return asyncio.run(_create_topics(settings))
    return 2


def _run_embedded(settings: Settings) -> int:
    from omniroute.embedded import create_app, prepare

    prepared = asyncio.run(prepare(settings))
    base = f"http://{settings.host}:{settings.port}"

    def banner() -> None:
        lines = [
            "",
            f"omniroute is running: all services in one process, data in {settings.data_dir}/",
            f"  demo tenant '{settings.demo_tenant}'"
            + (" created" if prepared.created else " (already there)"),
            *(
                [f"  admin API key (shown once, keep it): {prepared.admin_key}"]
                if prepared.admin_key
                else []
            ),
            f"  browser:  {base}/docs (API), {base}/desk/ (agents), {base}/wallboard/",
            f"            {base}/chat/demo (a customer's web chat)",
            f"  curl:     curl -s {base}/readyz",
            "  stop:     Ctrl-C",
            "",
        ]
        print("\n".join(lines), file=sys.stderr, flush=True)

    return _serve(settings, lambda runtime: create_app(runtime, on_ready=banner), embedded=True)


def _serve(
    settings: Settings, create_app: Callable[[Runtime], FastAPI], *, embedded: bool = False
) -> int:
    app = create_app(bootstrap(settings, embedded=embedded))
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None)
    )
    # Uvicorn drains on SIGTERM/SIGINT and then re-raises the signal to the handler
    # that was there before it; a no-op handler lets a drained process exit 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    if settings.effective_database_url.startswith("sqlite"):
        # aiosqlite runs every statement on a thread of its own, which then waits for the
        # GIL to hand the result back; Python's default 5 ms between handovers, with
        # the event loop busy, made each round trip of a transaction cost milliseconds
        # (offers at 20 messages a second: p50 1.75 s with 5 ms, 0.65 s with 0.5 ms).
        sys.setswitchinterval(0.0005)
    tune_garbage_collector()
    server.run()
    return 0 if server.started else 1


async def _create_topics(settings: Settings) -> int:
    if settings.bus != "kafka":
        print("OMNIROUTE_BUS is not kafka: LocalBus needs no topics", file=sys.stderr)
        return 2
    bus = KafkaBus(
        settings.kafka_bootstrap,
        partitions=settings.kafka_partitions,
        replication_factor=settings.kafka_replication_factor,
        topic_prefix=settings.kafka_topic_prefix,
    )
    await bus.start()  # creates what is missing, leaves what exists as it is
    try:
        partitions = await bus.partition_counts()
    finally:
        await bus.close()
    for topic in TOPICS:
        kind = "compacted" if topic in COMPACTED_TOPICS else "kept by retention"
        print(f"{settings.kafka_topic_prefix}{topic}: {partitions[topic]} partitions, {kind}")
    return 0


async def _rebuild(settings: Settings) -> None:
    from services.agents.readmodel import rebuild

    runtime = bootstrap(settings)
    await runtime.bus.start()
    try:
        applied = await rebuild(
            runtime,
            progress=lambda n: print(
                f"\rrebuilding the read model: {n} events", end="", file=sys.stderr
            ),
        )
    finally:
        await runtime.bus.close()
        await runtime.close_database()
    print(f"\rrebuilt the read model from {applied} events of cc.routing.v1", file=sys.stderr)


async def _create_key(settings: Settings, args: argparse.Namespace) -> int:
    role = Role(args.role)
    if role is Role.AGENT and not args.agent:
        print("an agent key needs --agent", file=sys.stderr)
        return 2
    await upgrade_async(settings.effective_database_url)
    engine = create_engine(settings.effective_database_url)
    key = new_key()
    try:
        await store_key(
            session_factory(engine),
            key=key,
            tenant=args.tenant or settings.demo_tenant,
            role=role,
            agent_id=args.agent,
            name=args.name,
        )
    finally:
        await engine.dispose()
    print(key)
    return 0


def _scenario(args: argparse.Namespace) -> Scenario:
    from omniroute.scenario_file import load
    from omniroute.simulate import Scenario

    if args.scenario is not None:
        scenario = load(args.scenario)
        given = {"hours": args.hours, "seed": args.seed}
        return dataclasses.replace(scenario, **{k: v for k, v in given.items() if v is not None})
    missing = [
        flag
        for flag, value in [
            ("--agents", args.agents),
            ("--arrival-rate-per-hour", args.arrival_rate_per_hour),
            ("--aht-s", args.aht_s),
        ]
        if value is None
    ]
    if missing:
        raise ValueError(f"give --scenario FILE, or {', '.join(missing)}")
    return Scenario(
        agents=args.agents,
        arrival_rate_per_hour=args.arrival_rate_per_hour,
        aht_s=args.aht_s,
        wrap_up_s=args.wrap_up_s,
        patience_s=args.patience_s,
        sl_target_s=args.sl_target_s,
        hours=100 if args.hours is None else args.hours,
        seed=1 if args.seed is None else args.seed,
        handle=args.handle,
    )


def _simulate(args: argparse.Namespace) -> int:
    from omniroute.simulate import Simulation
    from omniroute.simulate_report import write

    try:
        scenario = _scenario(args)
        simulation = Simulation(scenario)
    except ValueError as error:
        print(f"omniroute simulate: {error}", file=sys.stderr)
        return 2

    def bar(done: float) -> None:
        filled = int(done * 30)
        print(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done:4.0%}", end="", file=sys.stderr)

    if args.compare:
        from omniroute import compare

        rows = compare.compare(scenario, progress=bar)
        print(file=sys.stderr)
        print(compare.table(rows, scenario))
        print(f"wrote {compare.draw(rows, scenario, args.out)}")
        return 0
    result = simulation.run(progress=None if args.json else bar)
    if args.json:
        print(json.dumps(dataclasses.asdict(result)))
        return 0
    print(file=sys.stderr)
    for name, value in dataclasses.asdict(result).items():
        print(
            f"{name:>17}: {value if isinstance(value, int) or value is None else round(value, 4)}"
        )
    table, picture = write(simulation, args.out)
    print(f"wrote {table} and {picture}")
    return 0


def _write_schemas(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    schemas = json_schemas()
    for name, schema in schemas.items():
        (out / f"{name}.json").write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
    print(f"wrote {len(schemas)} event schemas to {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
