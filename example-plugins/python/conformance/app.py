"""The conformance plugin of docs/CONFORMANCE.md, in Python.

`wit_world` is generated from wit/plugin.wit by componentize-py when the
plugin is built; an exported function fails by raising `Err(message)`.
"""

import wit_world
from componentize_py_types import Err, Ok
from wit_world.imports import (
    app,
    commands,
    config,
    events,
    http_types,
    log,
    outgoing_handler,
    services,
)
from wit_world.imports.streams import StreamError_Closed
from wit_world.imports.types import (
    Scalar_Text,
    Value_Integer,
    Value_Text,
)

SERVICE = "conformance_svc"


def record(entry: str) -> None:
    """Appends `entry` to the list variable `conformance_seen`."""
    app.append_var("conformance_seen", Scalar_Text(entry))


def fetch(url: str) -> tuple[int, str]:
    """GETs `url` (http:// or https://): the status and the body's text."""
    scheme, _, rest = url.partition("://")
    authority, _, path = rest.partition("/")
    request = http_types.OutgoingRequest(http_types.Fields())
    https = scheme == "https"
    request.set_scheme(http_types.Scheme_Https() if https else http_types.Scheme_Http())
    request.set_authority(authority)
    request.set_path_with_query("/" + path)
    # Resources are dropped child first (`with`), as the host requires.
    with outgoing_handler.handle(request, None) as pending:
        with pending.subscribe() as ready:
            ready.block()
        got = pending.get()
    if not isinstance(got, Ok) or not isinstance(got.value, Ok):
        raise Err(f"no response from {authority}")
    body = b""
    with got.value.value as response:
        with response.consume() as incoming, incoming.stream() as stream:
            while True:
                try:
                    body += stream.blocking_read(65536)
                except Err as error:
                    if isinstance(error.value, StreamError_Closed):
                        break
                    raise
        return response.status(), body.decode(errors="replace")


def greeting() -> str:
    """The configuration value of `greeting`."""
    value = config.get("greeting")
    return value.value if isinstance(value, Value_Text) else "Hello"


def lookup(payload, key):
    """The value named `key` in `payload`, or None."""
    return next((value for name, value in payload if name == key), None)


def arg(name, help, style, **fields):
    """One argument of a command, text and optional unless `fields` say so."""
    spec = dict(
        kind=commands.ValueKind.TEXT,
        short=None,
        required=False,
        repeated=False,
        default=None,
    )
    spec.update(fields)
    return commands.ArgSpec(name=name, help=help, style=style, **spec)


class WitWorld(wit_world.WitWorld):
    def setup(self) -> None:
        config.declare("greeting", "The word to greet with", Value_Text("Hello"))
        for name in [
            "before_cli_start",
            "cli_parsed",
            "cli_started",
            "cli_stopped",
            "conformance_ping",
            "conformance_stop",
            "conformance_tick",
            "conformance_fetch",
        ]:
            events.subscribe(name)
        app.set_var("conformance_language", Value_Text("python"))
        Style = commands.ArgStyle
        commands.add_command(
            commands.CommandSpec(
                name="conform",
                help="Greet someone, as every conformance plugin does",
                args=[
                    arg("name", "Who to greet", Style.OPTION, short="n", required=True),
                    arg(
                        "times",
                        "How many times",
                        Style.OPTION,
                        kind=commands.ValueKind.INTEGER,
                        default="1",
                    ),
                    arg("loud", "Greet in capitals", Style.FLAG),
                ],
            )
        )
        services.add_service(SERVICE, None)
        log.log(log.Level.INFO, "conformance plugin ready")

    def on_event(self, event) -> bool:
        if event.name == "cli_parsed":
            command = lookup(event.payload, "command")
            text = command.value if isinstance(command, Value_Text) else "-"
            record(f"cli_parsed:{text}")
        elif event.name == "conformance_ping":
            n = lookup(event.payload, "n")
            if not isinstance(n, Value_Integer):
                raise Err("conformance_ping needs an integer n")
            record(f"ping:{n.value}")
            events.dispatch(
                "conformance_pong",
                [("n", Value_Integer(n.value + 1)), ("greeting", Value_Text(greeting()))],
            )
        elif event.name == "conformance_tick":
            pass
        elif event.name == "conformance_fetch":
            url = lookup(event.payload, "url")
            try:
                status, body = fetch(url.value if isinstance(url, Value_Text) else "")
                record(f"fetched:{status}:{body}")
            except Err:
                record("fetch_failed")
        elif event.name == "conformance_stop":
            record("stop")
            return True
        else:
            record(event.name)
        return False

    def service_setup(self, name: str) -> None:
        service_step("setup", name)

    def service_start(self, name: str) -> None:
        service_step("start", name)

    def service_stop(self, name: str) -> None:
        service_step("stop", name)

    def run_command(self, name: str, args) -> None:
        if name != "conform":
            raise Err(f"unknown command {name}")
        times = lookup(args, "times")
        count = times.value if isinstance(times, Value_Integer) else 1
        if count < 0:
            raise Err("--times must not be negative")
        who = lookup(args, "name")
        who = who.value if isinstance(who, Value_Text) else ""
        line = f"{greeting()}, {who}!"
        loud = lookup(args, "loud")
        if loud is not None and loud.value is True:
            line = "".join(c.upper() if c.isascii() else c for c in line)
        for _ in range(count):
            print(line)
        app.set_var("conformance_greeting", Value_Text(line))
        log.log(log.Level.INFO, f"greeted {who}")


def service_step(step: str, name: str) -> None:
    """Records one step of the conformance service."""
    if name != SERVICE:
        raise Err(f"unknown service {name}")
    record(f"service_{step}:{name}")
