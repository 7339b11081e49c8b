"""Prints a line for each CLI lifecycle event, as the Rust `hello` does."""

from precept_plugin import Plugin, events


class Hello(Plugin):
    def setup(self):
        events.subscribe("before_cli_start", "cli_parsed", "cli_started", "cli_stopped", "keyboard_interrupt")
        print("hello: setup")

    def on_event(self, event):
        print(f"hello: {event.name}")
