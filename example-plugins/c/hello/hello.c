// Prints a line for each CLI lifecycle event, as the Rust `hello` does.

#include <stdio.h>

#include "plugin.h"  // generated from wit/plugin.wit by precept-build

static const char *LIFECYCLE[] = {"before_cli_start", "cli_parsed", "cli_started",
                                  "cli_stopped", "keyboard_interrupt"};

bool exports_plugin_setup(plugin_string_t *err) {
  for (size_t i = 0; i < sizeof LIFECYCLE / sizeof LIFECYCLE[0]; i++) {
    plugin_string_t name;
    plugin_string_set(&name, LIFECYCLE[i]);
    precept_plugin_events_subscribe(&name);
  }
  puts("hello: setup");
  fflush(stdout);
  return true;
}

bool exports_plugin_on_event(plugin_event_t *event, bool *stop, plugin_string_t *err) {
  printf("hello: %.*s\n", (int)event->name.len, (const char *)event->name.ptr);
  fflush(stdout);
  plugin_event_free(event);  // arguments belong to the plugin
  *stop = false;             // let later subscribers see it too
  return true;
}

// This plugin provides no service and no command.
bool exports_plugin_service_setup(plugin_string_t *name, plugin_string_t *err) {
  plugin_string_free(name);
  return true;
}

bool exports_plugin_service_start(plugin_string_t *name, plugin_string_t *err) {
  plugin_string_free(name);
  return true;
}

bool exports_plugin_service_stop(plugin_string_t *name, plugin_string_t *err) {
  plugin_string_free(name);
  return true;
}

bool exports_plugin_run_command(plugin_string_t *name, plugin_payload_t *args,
                                plugin_string_t *err) {
  plugin_string_free(name);
  plugin_payload_free(args);
  return true;
}
