// The conformance plugin of docs/CONFORMANCE.md, in C, on the C SDK
// (`precept.h`, which precept-build compiles with the plugin).

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "precept.h"

#define SERVICE "conformance_svc"

// Appends `entry` to the list variable `conformance_seen`, in one step.
static void record(const char *entry) { precept_append_text("conformance_seen", entry); }

void on_setup(void) {
  precept_declare_text("greeting", "The word to greet with", "Hello");
  precept_subscribe("before_cli_start", "cli_parsed", "cli_started", "cli_stopped",
                    "conformance_ping", "conformance_stop", "conformance_tick",
                    "conformance_fetch");
  precept_set_text("conformance_language", "c");
  precept_add_command(
      "conform", "Greet someone, as every conformance plugin does",
      (precept_arg){"name", "Who to greet", PRECEPT_OPTION, .short_ = 'n', .required = true},
      (precept_arg){"times", "How many times", PRECEPT_OPTION, PRECEPT_KIND_INTEGER, .default_ = "1"},
      (precept_arg){"loud", "Greet in capitals", PRECEPT_FLAG});
  precept_add_service(SERVICE, NULL);
  precept_info("conformance plugin ready");
}

bool on_event(const precept_event *event) {
  char line[256];
  int64_t n;
  if (strcmp(event->name, "cli_parsed") == 0) {
    const char *command = precept_text(event->payload, "command");
    snprintf(line, sizeof line, "cli_parsed:%s", command ? command : "-");
    record(line);
  } else if (strcmp(event->name, "conformance_ping") == 0) {
    if (!precept_int(event->payload, "n", &n)) {
      precept_fail("conformance_ping needs an integer n");
      return false;
    }
    snprintf(line, sizeof line, "ping:%lld", (long long)n);
    record(line);
    precept_dispatch("conformance_pong", PRECEPT_INT("n", n + 1),
                     PRECEPT_TEXT("greeting", precept_config_text("greeting", "Hello")));
  } else if (strcmp(event->name, "conformance_fetch") == 0) {
    const char *url = precept_text(event->payload, "url");
    uint16_t status;
    const char *body;
    if (url && precept_http_get(url, &status, &body)) {
      char *fetched = malloc(strlen(body) + 32);
      sprintf(fetched, "fetched:%u:%s", status, body);
      record(fetched);
      free(fetched);
    } else {
      record("fetch_failed");
    }
  } else if (strcmp(event->name, "conformance_stop") == 0) {
    record("stop");
    return true;
  } else if (strcmp(event->name, "conformance_tick") != 0) {
    record(event->name);
  }
  return false;
}

void on_service(precept_step step, const char *service) {
  static const char *const STEPS[] = {"setup", "start", "stop"};
  if (strcmp(service, SERVICE) != 0) {
    precept_fail("unknown service %s", service);
    return;
  }
  char line[96];
  snprintf(line, sizeof line, "service_%s:%s", STEPS[step], service);
  record(line);
}

void on_command(const char *command, const precept_payload *args) {
  if (strcmp(command, "conform") != 0) {
    precept_fail("unknown command %s", command);
    return;
  }
  int64_t times = 1;
  precept_int(args, "times", &times);
  if (times < 0) {
    precept_fail("--times must not be negative");
    return;
  }
  const char *who = precept_text(args, "name");
  char line[256];
  snprintf(line, sizeof line, "%s, %s!", precept_config_text("greeting", "Hello"), who ? who : "");
  if (precept_flag(args, "loud")) {
    for (char *c = line; *c; c++) *c = (char)toupper((unsigned char)*c);
  }
  for (int64_t i = 0; i < times; i++) puts(line);
  precept_set_text("conformance_greeting", line);
  precept_info("greeted %s", who ? who : "");
}
