// Prints a line for each CLI lifecycle event, as the Rust `hello` does.
import { events } from "./precept.js"; // the JavaScript SDK, put here by precept-build

export function setup() {
  events.subscribe("before_cli_start", "cli_parsed", "cli_started", "cli_stopped", "keyboard_interrupt");
  console.log("hello: setup");
}

export function onEvent(event) {
  console.log(`hello: ${event.name}`);
}
