// The component's exports: each calls the plugin's own (from `app.js`),
// else a default, converting values both ways (see precept.js).

import * as plugin from "./app.js";
import { argsOf, call, eventOf } from "./precept.js";

const none = () => undefined;

export const setup = () => call(plugin.setup, none, []);
export const onEvent = (event) => call(plugin.onEvent, none, [eventOf(event)], (stop) => stop === true);
export const serviceSetup = (name) => call(plugin.serviceSetup, none, [name]);
export const serviceStart = (name) => call(plugin.serviceStart, none, [name]);
export const serviceStop = (name) => call(plugin.serviceStop, none, [name]);
export const runCommand = (name, args) =>
  call(plugin.runCommand, (n) => { throw `this plugin has no command ${n}`; }, [name, argsOf(args)]);
