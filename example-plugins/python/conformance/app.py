"""The conformance plugin of docs/CONFORMANCE.md, in Python, on the SDK
(`precept_plugin`, which precept-build puts beside it)."""

from precept_plugin import HttpError, Plugin, app, commands, config, events, http, log, services

SERVICE = "conformance_svc"


def record(entry: str) -> None:
    """Appends `entry` to the list variable `conformance_seen`, in one step."""
    app.vars.append("conformance_seen", entry)


def service_step(step: str, name: str) -> None:
    """Records one step of the conformance service."""
    if name != SERVICE:
        raise ValueError(f"unknown service {name}")
    record(f"service_{step}:{name}")


class Conformance(Plugin):
    def setup(self):
        config.declare("greeting", "The word to greet with", "Hello")
        events.subscribe(
            "before_cli_start",
            "cli_parsed",
            "cli_started",
            "cli_stopped",
            "conformance_ping",
            "conformance_stop",
            "conformance_tick",
            "conformance_fetch",
        )
        app.vars["conformance_language"] = "python"
        commands.add(
            "conform",
            "Greet someone, as every conformance plugin does",
            commands.option("name", "Who to greet", short="n", required=True),
            commands.option("times", "How many times", kind=int, default=1),
            commands.flag("loud", "Greet in capitals"),
        )
        services.add(SERVICE)
        log.info("conformance plugin ready")

    def on_event(self, event):
        if event.name == "cli_parsed":
            command = event.payload.get("command")
            record(f"cli_parsed:{command if isinstance(command, str) else '-'}")
        elif event.name == "conformance_ping":
            n = event.payload.get("n")
            if type(n) is not int:
                raise ValueError("conformance_ping needs an integer n")
            record(f"ping:{n}")
            events.dispatch("conformance_pong", n=n + 1, greeting=config.get("greeting"))
        elif event.name == "conformance_tick":
            pass
        elif event.name == "conformance_fetch":
            try:
                response = http.get(event.get("url", ""))
                record(f"fetched:{response.status}:{response.text}")
            except HttpError:
                record("fetch_failed")
        elif event.name == "conformance_stop":
            record("stop")
            return True
        else:
            record(event.name)

    def service_setup(self, name):
        service_step("setup", name)

    def service_start(self, name):
        service_step("start", name)

    def service_stop(self, name):
        service_step("stop", name)

    def run_command(self, name, args):
        if name != "conform":
            raise ValueError(f"unknown command {name}")
        count = args.get("times", 1)
        if count < 0:
            raise ValueError("--times must not be negative")
        line = f"{config.get('greeting')}, {args.get('name', '')}!"
        if args.get("loud"):
            line = "".join(c.upper() if c.isascii() else c for c in line)
        for _ in range(count):
            print(line)
        app.vars["conformance_greeting"] = line
        log.info(f"greeted {args.get('name', '')}")
