"""The ``ipcc`` command: serve, bench, ivr."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

BENCHMARKS = {
    "routing": "acd.bench.routing",
    "erlang": "acd.bench.erlang",
    "store": "acd.bench.store",
    "dialer": "acd.bench.dialer",
    "sip": "acd.bench.sip",
    "chat": "acd.bench.chat",
}


def _serve(args: argparse.Namespace) -> int:
    from config.loader import ConfigError, load_settings

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"ipcc: configuration error:\n{exc}", file=sys.stderr)
        return 2
    server_over: dict[str, Any] = {}
    if args.http_port is not None:
        server_over["http"] = settings.server.http.model_copy(update={"port": args.http_port})
    if args.sip_port is not None:
        server_over["sip"] = settings.server.sip.model_copy(update={"port": args.sip_port})
    if getattr(args, "no_voice", False):
        server_over["sip"] = server_over.get("sip", settings.server.sip).model_copy(
            update={"enabled": False})
    if args.host is not None:
        server_over["http"] = server_over.get("http", settings.server.http).model_copy(
            update={"host": args.host})
    if args.store_url:
        server_over["store"] = settings.server.store.model_copy(update={"url": args.store_url})
    if args.bus_url:
        server_over["bus"] = settings.server.bus.model_copy(update={"url": args.bus_url})
    if server_over:
        settings = settings.model_copy(
            update={"server": settings.server.model_copy(update=server_over)})
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # the embedded broker's libraries narrate every state change
        for noisy in ("transitions", "amqtt", "alembic.runtime.migration"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        asyncio.run(_run_server(settings, Path(args.data_dir)))
    except KeyboardInterrupt:
        pass
    return 0


async def _run_server(settings: Any, data_dir: Path) -> None:
    import uvicorn

    from crm_bridge.service import CrmService

    from .campaigns.runner import CampaignRunner

    from .api import create_app
    from .ivr_service import IvrService
    from .server import Server

    server = Server(settings, data_dir)
    server.add_gateway(CrmService())   # before voice, which uses server.crm / server.ivr
    server.add_gateway(IvrService())
    server.add_gateway(CampaignRunner())  # outbound pacing; dials through voice when it can
    voice = _voice_gateway(settings)
    if voice is not None:
        server.add_gateway(voice)
    chat = _chat_gateway(settings)
    if chat is not None:
        server.add_gateway(chat)
    await server.start()
    http = settings.server.http
    config = uvicorn.Config(create_app(server), host=http.host, port=http.port,
                            log_level="warning", ws="websockets-sansio", lifespan="off")
    web = uvicorn.Server(config)
    web.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    serving = asyncio.create_task(web.serve())
    while not web.started and not serving.done():
        await asyncio.sleep(0.05)
    if serving.done():
        await server.stop()
        serving.result()
        raise SystemExit(f"ipcc: cannot listen on {http.host}:{http.port}")
    port = web.servers[0].sockets[0].getsockname()[1] if web.servers else http.port
    print(f"ipcc listening on http://{http.host}:{port}  (API /api/v1, docs /api/v1/docs, "
          f"health /healthz)", flush=True)
    print(f"  store: {server.store_url}", flush=True)
    print(f"  bus:   {server.bus.status()['url'] if server.bus else 'none'}"
          f"{' (embedded broker)' if server.broker else ''}", flush=True)
    if voice is None:
        print("  voice: disabled", flush=True)
    elif voice.started:
        print(f"  SIP (voice): {voice.sip_address()}  "
              f"({len(voice.pool.workers())} media workers)", flush=True)
    else:
        print(f"  voice: unavailable ({voice.error})", flush=True)
    if chat is not None:
        print(f"  chat:  {chat.url()}/<tenant>, widget {chat.widget_url()}" if chat.started
              else f"  chat:  unavailable ({chat.error})", flush=True)
    if any(t.id == "demo" for t in settings.tenants):
        print("  demo log-ins: admin/admin, supervisor/supervisor, agent1..agent10/agent "
              "(tenant demo); admin@acme/admin", flush=True)
    await stop.wait()
    web.should_exit = True
    await serving
    await server.stop()


def _chat_gateway(settings: Any) -> Any:
    """The web chat gateway (visitor WebSocket server) when enabled."""
    if not settings.server.chat.enabled:
        return None
    from gateways.chat import ChatGateway

    return ChatGateway()


def _voice_gateway(settings: Any) -> Any:
    """The voice gateway when enabled; one that cannot start leaves the rest serving."""
    if not settings.server.sip.enabled:
        return None
    from gateways.voice import VoiceGateway

    return VoiceGateway(optional=True)


def _bench(args: argparse.Namespace) -> int:
    module = importlib.import_module(BENCHMARKS[args.bench])
    result = module.run(args)
    if args.json:
        print(json.dumps(result))
    else:
        print(module.render(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ipcc", description="IP contact-center server")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="start the server")
    serve.add_argument("--config", default=None, help="YAML config (e.g. config/demo.yaml)")
    serve.add_argument("--data-dir", default="var", help="where SQLite, secrets, backups live")
    serve.add_argument("--http-port", type=int, default=None, help="HTTP port (default 8080)")
    serve.add_argument("--sip-port", type=int, default=None, help="SIP port (default 5060)")
    serve.add_argument("--no-voice", action="store_true",
                       help="do not start the voice service (media workers, SIP front)")
    serve.add_argument("--host", default=None, help="HTTP listen address")
    serve.add_argument("--store-url", default=None, help="database URL (default SQLite)")
    serve.add_argument("--bus-url", default=None,
                       help="mqtt://host:port, 'embedded' or 'none'")
    serve.add_argument("-v", "--verbose", action="store_true")
    serve.set_defaults(func=_serve)

    bench = sub.add_parser("bench", help="benchmarks with a baseline measured in the same run")
    bench_sub = bench.add_subparsers(dest="bench", required=True)
    for name, module_name in BENCHMARKS.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        b = bench_sub.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0]
                                 if module.__doc__ else None)
        module.add_arguments(b)
        if not any(a.dest == "json" for a in b._actions):
            b.add_argument("--json", action="store_true", help="print one JSON object")
        b.set_defaults(func=_bench)

    try:
        from ivr import cli as ivr_cli
    except ImportError:
        ivr_cli = None
    if ivr_cli is not None and hasattr(ivr_cli, "add_subcommands"):
        ivr = sub.add_parser("ivr", help="IVR trees: lint, show")
        ivr_cli.add_subcommands(ivr.add_subparsers(dest="ivr_command", required=True))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
