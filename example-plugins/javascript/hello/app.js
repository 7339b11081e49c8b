// Prints a line for each CLI lifecycle event, as the Rust `hello` does.

import { subscribe } from "precept:plugin/events@0.2.0";

const LIFECYCLE = ["before_cli_start", "cli_parsed", "cli_started", "cli_stopped", "keyboard_interrupt"];

export function setup() {
  LIFECYCLE.forEach(subscribe);
  console.log("hello: setup");
}

export function onEvent(event) {
  console.log(`hello: ${event.name}`);
  return false; // let later subscribers see it too
}

// This plugin provides no service and no command.
export function serviceSetup(name) {}
export function serviceStart(name) {}
export function serviceStop(name) {}
export function runCommand(name, args) {}
