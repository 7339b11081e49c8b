// Write precept plugins in JavaScript.
//
// `precept-build` puts this module beside `app.js`: a plugin exports only
// the functions it uses (`setup`, `onEvent`, `serviceSetup`,
// `serviceStart`, `serviceStop`, `runCommand`; any may be async) and
// imports the helpers from "./precept.js":
//
//   import { events } from "./precept.js";
//   export function setup() { events.subscribe("cli_started"); }
//   export function onEvent(event) { console.log(`hello from ${event.name}`); }
//
// Values cross as JavaScript values: null, booleans, numbers (integers as
// s64), BigInts, strings, arrays of those; anything else as JSON. An
// event handler stops the event by returning true; whatever an export
// throws is reported with the plugin's name, and the plugin goes on.
//
// The imports below name the contract's version by a placeholder, which
// precept-build replaces with the version of the WIT package it builds
// against.

import * as wApp from "precept:plugin/app@WIT_VERSION";
import { granted } from "precept:plugin/capabilities@WIT_VERSION";
import { addCommand } from "precept:plugin/commands@WIT_VERSION";
import { declare, get } from "precept:plugin/config@WIT_VERSION";
import { dispatch, subscribe, unsubscribe } from "precept:plugin/events@WIT_VERSION";
import { log as wLog } from "precept:plugin/log@WIT_VERSION";
import { addService, isRunning } from "precept:plugin/services@WIT_VERSION";
import * as wTimers from "precept:plugin/timers@WIT_VERSION";

const isScalar = (v) => v == null || ["boolean", "number", "bigint", "string"].includes(typeof v);

function scalar(v) {
  if (v == null) return { tag: "absent" };
  if (typeof v === "boolean") return { tag: "boolean", val: v };
  if (typeof v === "bigint") return { tag: "integer", val: v };
  if (typeof v === "number") {
    return Number.isInteger(v) ? { tag: "integer", val: BigInt(v) } : { tag: "float", val: v };
  }
  return { tag: "text", val: String(v) };
}

/** A JavaScript value as a WIT `value`. */
export function toValue(v) {
  if (isScalar(v)) return scalar(v);
  if (Array.isArray(v) && v.every(isScalar)) return { tag: "list", val: v.map(scalar) };
  return { tag: "json", val: JSON.stringify(v) };
}

/** A WIT `value` (or `scalar`) as a JavaScript value; integers as numbers
 *  when they fit exactly, else BigInts. */
export function fromValue(v) {
  if (v == null || v.tag === "absent") return null;
  if (v.tag === "list") return v.val.map(fromValue);
  if (v.tag === "json") return JSON.parse(v.val);
  if (v.tag === "integer") {
    const n = Number(v.val);
    return Number.isSafeInteger(n) ? n : v.val;
  }
  return v.val;
}

const toPayload = (entries = {}) => Object.entries(entries).map(([k, v]) => [k, toValue(v)]);
const fromPayload = (payload) => Object.fromEntries(payload.map(([k, v]) => [k, fromValue(v)]));

/** The message an export fails with. */
const message = (e) => (e instanceof Error ? e.message : String(e));

/** Calls the plugin's export `fn` (or `fallback`), converting its result
 *  (and a promise's) with `done` and a throw into the failure message. */
export function call(fn, fallback, args, done = () => undefined) {
  try {
    const result = (fn ?? fallback)(...args);
    if (result instanceof Promise) {
      return result.then(done, (e) => {
        throw message(e);
      });
    }
    return done(result);
  } catch (e) {
    throw message(e);
  }
}

/** An event as a subscriber receives it: its payload as an object. */
export const eventOf = (e) => ({ ...e, payload: fromPayload(e.payload) });
export const argsOf = fromPayload;

export const events = {
  /** Deliver these events to `onEvent`. */
  subscribe: (...names) => names.forEach((n) => subscribe(n)),
  unsubscribe: (...names) => names.forEach((n) => unsubscribe(n)),
  /** Dispatch `name` with `payload` (an object), once the export returns. */
  dispatch: (name, payload) => dispatch(name, toPayload(payload)),
};

const level = (l) => (message) => wLog(l, String(message));
export const log = {
  trace: level("trace"),
  debug: level("debug"),
  info: level("info"),
  warn: level("warn"),
  error: level("error"),
};

export const app = {
  progName: () => wApp.progName(),
  version: () => wApp.version(),
  /** The variable `name`, null when unset. */
  get: (name) => fromValue(wApp.getVar(name)),
  set: (name, value) => wApp.setVar(name, toValue(value)),
  /** Adds `delta` to the integer variable `name` in one step; its new value. */
  add: (name, delta = 1) => Number(wApp.addVar(name, BigInt(delta))),
  /** Appends `item` to the list variable `name` in one step; its length. */
  append: (name, item) => wApp.appendVar(name, scalar(item)),
};

export const config = {
  /** Declares `key` with its help and default (in `setup`). */
  declare: (key, help, fallback = null) => declare(key, help, toValue(fallback)),
  /** The value of `key`, else its declared default, else `fallback`. */
  get: (key, fallback = null) => fromValue(get(key)) ?? fallback,
};

const KINDS = { string: "text", text: "text", integer: "integer", int: "integer", float: "float", boolean: "boolean" };
const arg = (style) => (name, help, fields = {}) => ({
  name,
  help,
  style,
  kind: KINDS[fields.kind ?? "text"],
  short: fields.short,
  required: fields.required ?? false,
  repeated: fields.repeated ?? false,
  default: fields.default == null ? undefined : String(fields.default),
});

export const commands = {
  /** Adds a command (in `setup`), run by `runCommand`. */
  add: (name, help, ...args) => addCommand({ name, help, args }),
  option: arg("option"),
  flag: arg("flag"),
  count: arg("count"),
  positional: arg("positional"),
};

export const services = {
  /** Declares the service `name`, for every command or only `command`. */
  add: (name, command) => addService(name, command),
  /** Whether the service `name` runs; null when there is none. */
  isRunning: (name) => isRunning(name) ?? null,
};

export const timers = {
  /** Dispatch `event` once, `ms` milliseconds from now; the timer's id. */
  after: (ms, event, payload) => wTimers.setTimeout(ms, event, toPayload(payload)),
  /** Dispatch `event` every `ms` milliseconds; the timer's id. */
  every: (ms, event, payload) => wTimers.setInterval(ms, event, toPayload(payload)),
  cancel: (id) => wTimers.cancel(id),
};

export const capabilities = {
  granted: () => granted(),
  env: (name) => granted().some((g) => g.tag === "env" && g.val === name),
  net: (host) => granted().some((g) => g.tag === "net" && g.val === host),
};
