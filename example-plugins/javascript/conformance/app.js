// The conformance plugin of docs/CONFORMANCE.md, in JavaScript.
//
// Imports come from the WIT interfaces by name; exports are the world's
// functions in camelCase. Variants are `{ tag, val }`, `s64` is a BigInt,
// and an exported function fails by throwing its message.

import { appendVar, setVar } from "precept:plugin/app@0.2.0";
import { addCommand } from "precept:plugin/commands@0.2.0";
import { declare, get } from "precept:plugin/config@0.2.0";
import { dispatch, subscribe } from "precept:plugin/events@0.2.0";
import { log } from "precept:plugin/log@0.2.0";
import { addService } from "precept:plugin/services@0.2.0";

const SERVICE = "conformance_svc";
const text = (val) => ({ tag: "text", val });

/** Appends `entry` to the list variable `conformance_seen`. */
function record(entry) {
  appendVar("conformance_seen", text(entry));
}

/** The configuration value of `greeting`. */
function greeting() {
  const value = get("greeting");
  return value?.tag === "text" ? value.val : "Hello";
}

/** The value named `key` in `payload`, or undefined. */
function lookup(payload, key) {
  return payload.find(([name]) => name === key)?.[1];
}

/** One argument of a command, text and optional unless `fields` say so. */
function arg(name, help, style, fields = {}) {
  return { name, help, style, kind: "text", required: false, repeated: false, ...fields };
}

/** GETs `url`; records `fetched:STATUS:BODY`, or `fetch_failed`. */
async function fetchAndRecord(url) {
  try {
    const response = await fetch(url);
    record(`fetched:${response.status}:${await response.text()}`);
  } catch {
    record("fetch_failed");
  }
  return false;
}

/** Records one step of the conformance service. */
function serviceStep(step, name) {
  if (name !== SERVICE) throw `unknown service ${name}`;
  record(`service_${step}:${name}`);
}

export function setup() {
  declare("greeting", "The word to greet with", text("Hello"));
  for (const name of [
    "before_cli_start",
    "cli_parsed",
    "cli_started",
    "cli_stopped",
    "conformance_ping",
    "conformance_stop",
    "conformance_tick",
    "conformance_fetch",
  ]) {
    subscribe(name);
  }
  setVar("conformance_language", text("javascript"));
  addCommand({
    name: "conform",
    help: "Greet someone, as every conformance plugin does",
    args: [
      arg("name", "Who to greet", "option", { short: "n", required: true }),
      arg("times", "How many times", "option", { kind: "integer", default: "1" }),
      arg("loud", "Greet in capitals", "flag"),
    ],
  });
  addService(SERVICE, undefined);
  log("info", "conformance plugin ready");
}

export function onEvent(event) {
  switch (event.name) {
    case "cli_parsed": {
      const command = lookup(event.payload, "command");
      record(`cli_parsed:${command?.tag === "text" ? command.val : "-"}`);
      return false;
    }
    case "conformance_ping": {
      const n = lookup(event.payload, "n");
      if (n?.tag !== "integer") throw "conformance_ping needs an integer n";
      record(`ping:${n.val}`);
      dispatch("conformance_pong", [
        ["n", { tag: "integer", val: n.val + 1n }],
        ["greeting", text(greeting())],
      ]);
      return false;
    }
    case "conformance_tick":
      return false;
    case "conformance_fetch": {
      const url = lookup(event.payload, "url");
      return fetchAndRecord(url?.tag === "text" ? url.val : "");
    }
    case "conformance_stop":
      record("stop");
      return true;
    default:
      record(event.name);
      return false;
  }
}

export function serviceSetup(name) {
  serviceStep("setup", name);
}

export function serviceStart(name) {
  serviceStep("start", name);
}

export function serviceStop(name) {
  serviceStep("stop", name);
}

export function runCommand(name, args) {
  if (name !== "conform") throw `unknown command ${name}`;
  const times = lookup(args, "times");
  const count = times?.tag === "integer" ? times.val : 1n;
  if (count < 0n) throw "--times must not be negative";
  const who = lookup(args, "name");
  const whom = who?.tag === "text" ? who.val : "";
  let line = `${greeting()}, ${whom}!`;
  const loud = lookup(args, "loud");
  if (loud?.tag === "boolean" && loud.val) {
    line = line.replace(/[a-z]/g, (c) => c.toUpperCase());
  }
  for (let i = 0n; i < count; i++) {
    console.log(line);
  }
  setVar("conformance_greeting", text(line));
  log("info", `greeted ${whom}`);
}
