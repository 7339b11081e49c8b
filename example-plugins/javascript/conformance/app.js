// The conformance plugin of docs/CONFORMANCE.md, in JavaScript, on the SDK
// ("./precept.js", which precept-build puts beside it).

import { app, commands, config, events, log, services } from "./precept.js";

const SERVICE = "conformance_svc";

/** Appends `entry` to the list variable `conformance_seen`, in one step. */
const record = (entry) => app.append("conformance_seen", entry);

/** GETs `url`; records `fetched:STATUS:BODY`, or `fetch_failed`. */
async function fetchAndRecord(url) {
  try {
    const response = await fetch(url);
    record(`fetched:${response.status}:${await response.text()}`);
  } catch {
    record("fetch_failed");
  }
}

/** Records one step of the conformance service. */
function serviceStep(step, name) {
  if (name !== SERVICE) throw `unknown service ${name}`;
  record(`service_${step}:${name}`);
}

export function setup() {
  config.declare("greeting", "The word to greet with", "Hello");
  events.subscribe(
    "before_cli_start",
    "cli_parsed",
    "cli_started",
    "cli_stopped",
    "conformance_ping",
    "conformance_stop",
    "conformance_tick",
    "conformance_fetch",
  );
  app.set("conformance_language", "javascript");
  commands.add(
    "conform",
    "Greet someone, as every conformance plugin does",
    commands.option("name", "Who to greet", { short: "n", required: true }),
    commands.option("times", "How many times", { kind: "integer", default: 1 }),
    commands.flag("loud", "Greet in capitals"),
  );
  services.add(SERVICE);
  log.info("conformance plugin ready");
}

export function onEvent(event) {
  switch (event.name) {
    case "cli_parsed": {
      const command = event.payload.command;
      record(`cli_parsed:${typeof command === "string" ? command : "-"}`);
      return false;
    }
    case "conformance_ping": {
      const n = event.payload.n;
      if (!Number.isInteger(n)) throw "conformance_ping needs an integer n";
      record(`ping:${n}`);
      events.dispatch("conformance_pong", { n: n + 1, greeting: config.get("greeting") });
      return false;
    }
    case "conformance_tick":
      return false;
    case "conformance_fetch":
      return fetchAndRecord(event.payload.url ?? "").then(() => false);
    case "conformance_stop":
      record("stop");
      return true;
    default:
      record(event.name);
      return false;
  }
}

export const serviceSetup = (name) => serviceStep("setup", name);
export const serviceStart = (name) => serviceStep("start", name);
export const serviceStop = (name) => serviceStep("stop", name);

export function runCommand(name, args) {
  if (name !== "conform") throw `unknown command ${name}`;
  const count = args.times ?? 1;
  if (count < 0) throw "--times must not be negative";
  let line = `${config.get("greeting")}, ${args.name ?? ""}!`;
  if (args.loud === true) line = line.replace(/[a-z]/g, (c) => c.toUpperCase());
  for (let i = 0; i < count; i++) console.log(line);
  app.set("conformance_greeting", line);
  log.info(`greeted ${args.name ?? ""}`);
}
