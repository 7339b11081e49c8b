// Prints a line for each CLI lifecycle event, as the Rust `hello` does.

#include <stdio.h>

#include "precept.h"  // the C SDK, which precept-build compiles with the plugin

void on_setup(void) {
  precept_subscribe("before_cli_start", "cli_parsed", "cli_started", "cli_stopped",
                    "keyboard_interrupt");
  puts("hello: setup");
}

bool on_event(const precept_event *event) {
  printf("hello: %s\n", event->name);
  return false;  // let later subscribers see it too
}
