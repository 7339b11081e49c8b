"""Prints a line for each CLI lifecycle event, as the Rust `hello` does."""

import wit_world
from wit_world.imports import events

LIFECYCLE = ["before_cli_start", "cli_parsed", "cli_started", "cli_stopped", "keyboard_interrupt"]


class WitWorld(wit_world.WitWorld):
    def setup(self) -> None:
        for name in LIFECYCLE:
            events.subscribe(name)
        print("hello: setup")

    def on_event(self, event) -> bool:
        print(f"hello: {event.name}")
        return False  # let later subscribers see it too

    # This plugin provides no service and no command.
    def service_setup(self, name: str) -> None: ...
    def service_start(self, name: str) -> None: ...
    def service_stop(self, name: str) -> None: ...
    def run_command(self, name: str, args) -> None: ...
