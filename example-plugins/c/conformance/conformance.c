// The conformance plugin of docs/CONFORMANCE.md, in C.
//
// `plugin.h` is generated from wit/plugin.wit by wit-bindgen's C generator
// (`precept-build` writes it beside the component). Arguments of exported
// functions belong to the plugin and are freed here; error strings are
// allocated, and freed by the bindings once the host has read them.

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

#define SERVICE "conformance_svc"

typedef precept_plugin_types_value_t value_t;
typedef precept_plugin_types_scalar_t scalar_t;

// A WIT string borrowing the C string `s`.
static plugin_string_t str(const char *s) {
  plugin_string_t out;
  plugin_string_set(&out, s);
  return out;
}

static bool str_is(const plugin_string_t *s, const char *c) {
  return s->len == strlen(c) && memcmp(s->ptr, c, s->len) == 0;
}

// A NUL-terminated copy of `s`, to be freed by the caller.
static char *c_string(const plugin_string_t *s) {
  char *out = malloc(s->len + 1);
  memcpy(out, s->ptr, s->len);
  out[s->len] = '\0';
  return out;
}

static bool fail(plugin_string_t *err, const char *message) {
  plugin_string_dup(err, message);
  return false;
}

static void log_info(const char *message) {
  plugin_string_t text = str(message);
  precept_plugin_log_log(PRECEPT_PLUGIN_LOG_LEVEL_INFO, &text);
}

static value_t text_value(const char *s) {
  value_t value = {.tag = PRECEPT_PLUGIN_TYPES_VALUE_TEXT};
  value.val.text = str(s);
  return value;
}

static value_t integer_value(int64_t n) {
  value_t value = {.tag = PRECEPT_PLUGIN_TYPES_VALUE_INTEGER};
  value.val.integer = n;
  return value;
}

// Appends `entry` to the list variable `conformance_seen`.
static void record(const char *entry) {
  plugin_string_t name = str("conformance_seen");
  // One step (append-var): plugins recording at once lose no entry.
  scalar_t item = {.tag = PRECEPT_PLUGIN_TYPES_SCALAR_TEXT, .val.text = str(entry)};
  uint32_t len;
  plugin_string_t err;
  if (!precept_plugin_app_append_var(&name, &item, &len, &err)) {
    plugin_string_free(&err);
  }
}

// GETs `url` (http:// or https://) through wasi:http: true with its status
// and body (to be freed by the caller), false when no response came.
// Every handle is dropped, children before their parents.
static bool fetch(const char *url, uint16_t *status, char **body) {
  const char *rest = strstr(url, "://");
  if (rest == NULL) {
    return false;
  }
  bool https = strncmp(url, "https", 5) == 0;
  rest += 3;
  const char *slash = strchr(rest, '/');
  plugin_string_t authority = {(uint8_t *)rest, slash ? (size_t)(slash - rest) : strlen(rest)};
  plugin_string_t path = str(slash ? slash : "/");
  wasi_http_types_scheme_t scheme = {
      .tag = https ? WASI_HTTP_TYPES_SCHEME_HTTPS : WASI_HTTP_TYPES_SCHEME_HTTP};
  wasi_http_types_own_outgoing_request_t request =
      wasi_http_types_constructor_outgoing_request(wasi_http_types_constructor_fields());
  wasi_http_types_borrow_outgoing_request_t req = wasi_http_types_borrow_outgoing_request(request);
  wasi_http_types_method_outgoing_request_set_scheme(req, &scheme);
  wasi_http_types_method_outgoing_request_set_authority(req, &authority);
  wasi_http_types_method_outgoing_request_set_path_with_query(req, &path);

  wasi_http_outgoing_handler_own_future_incoming_response_t pending;
  wasi_http_outgoing_handler_error_code_t code;
  if (!wasi_http_outgoing_handler_handle(request, NULL, &pending, &code)) {
    wasi_http_outgoing_handler_error_code_free(&code);
    return false;
  }
  wasi_http_types_borrow_future_incoming_response_t future =
      wasi_http_types_borrow_future_incoming_response(pending);
  wasi_http_types_own_pollable_t ready = wasi_http_types_method_future_incoming_response_subscribe(future);
  wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable(ready));
  wasi_io_poll_pollable_drop_own(ready);
  wasi_http_types_result_result_own_incoming_response_error_code_void_t got;
  bool answered = wasi_http_types_method_future_incoming_response_get(future, &got);
  wasi_http_types_future_incoming_response_drop_own(pending);
  if (!answered || got.is_err) {
    return false;
  }
  if (got.val.ok.is_err) {
    wasi_http_types_error_code_free(&got.val.ok.val.err);
    return false;
  }

  wasi_http_types_own_incoming_response_t response = got.val.ok.val.ok;
  wasi_http_types_borrow_incoming_response_t resp = wasi_http_types_borrow_incoming_response(response);
  *status = wasi_http_types_method_incoming_response_status(resp);
  size_t len = 0;
  char *text = malloc(1);
  wasi_http_types_own_incoming_body_t incoming;
  if (wasi_http_types_method_incoming_response_consume(resp, &incoming)) {
    wasi_http_types_own_input_stream_t stream;
    if (wasi_http_types_method_incoming_body_stream(wasi_http_types_borrow_incoming_body(incoming),
                                                    &stream)) {
      plugin_list_u8_t chunk;
      wasi_io_streams_stream_error_t end;
      while (wasi_io_streams_method_input_stream_blocking_read(
          wasi_io_streams_borrow_input_stream(stream), 65536, &chunk, &end)) {
        text = realloc(text, len + chunk.len + 1);
        memcpy(text + len, chunk.ptr, chunk.len);
        len += chunk.len;
        plugin_list_u8_free(&chunk);
      }
      wasi_io_streams_stream_error_free(&end);
      wasi_io_streams_input_stream_drop_own(stream);
    }
    wasi_http_types_incoming_body_drop_own(incoming);
  }
  wasi_http_types_incoming_response_drop_own(response);
  text[len] = '\0';
  *body = text;
  return true;
}

// The configuration value of `greeting`, to be freed by the caller.
static char *greeting(void) {
  plugin_string_t key = str("greeting");
  value_t value;
  char *out = NULL;
  if (precept_plugin_config_get(&key, &value)) {
    if (value.tag == PRECEPT_PLUGIN_TYPES_VALUE_TEXT) {
      out = c_string(&value.val.text);
    }
    precept_plugin_types_value_free(&value);
  }
  return out ? out : strdup("Hello");
}

// The value named `key` in `payload`, or NULL.
static const value_t *lookup(const plugin_payload_t *payload, const char *key) {
  for (size_t i = 0; i < payload->len; i++) {
    if (str_is(&payload->ptr[i].f0, key)) {
      return &payload->ptr[i].f1;
    }
  }
  return NULL;
}

static precept_plugin_commands_arg_spec_t arg(const char *name, const char *help,
                                              precept_plugin_commands_arg_style_t style) {
  precept_plugin_commands_arg_spec_t spec = {
      .name = str(name),
      .help = str(help),
      .style = style,
      .kind = PRECEPT_PLUGIN_COMMANDS_VALUE_KIND_TEXT,
  };
  return spec;
}

bool exports_plugin_setup(plugin_string_t *err) {
  plugin_string_t key = str("greeting"), help = str("The word to greet with");
  value_t hello = text_value("Hello");
  precept_plugin_config_declare(&key, &help, &hello);

  const char *events[] = {"before_cli_start", "cli_parsed",       "cli_started",
                          "cli_stopped",      "conformance_ping", "conformance_stop",
                          "conformance_tick", "conformance_fetch"};
  for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
    plugin_string_t event = str(events[i]);
    precept_plugin_events_subscribe(&event);
  }

  plugin_string_t language_var = str("conformance_language");
  value_t language = text_value("c");
  precept_plugin_app_set_var(&language_var, &language);

  precept_plugin_commands_arg_spec_t args[3] = {
      arg("name", "Who to greet", PRECEPT_PLUGIN_COMMANDS_ARG_STYLE_OPTION),
      arg("times", "How many times", PRECEPT_PLUGIN_COMMANDS_ARG_STYLE_OPTION),
      arg("loud", "Greet in capitals", PRECEPT_PLUGIN_COMMANDS_ARG_STYLE_FLAG),
  };
  args[0].short_ = (plugin_option_char32_t){true, 'n'};
  args[0].required = true;
  args[1].kind = PRECEPT_PLUGIN_COMMANDS_VALUE_KIND_INTEGER;
  args[1].default_ = (plugin_option_string_t){true, str("1")};
  precept_plugin_commands_command_spec_t command = {
      .name = str("conform"),
      .help = str("Greet someone, as every conformance plugin does"),
      .args = {args, 3},
  };
  precept_plugin_commands_add_command(&command);

  plugin_string_t service = str(SERVICE);
  precept_plugin_services_add_service(&service, NULL);

  log_info("conformance plugin ready");
  return true;
}

bool exports_plugin_on_event(plugin_event_t *event, bool *stop, plugin_string_t *err) {
  bool ok = true;
  char line[64];
  *stop = false;
  if (str_is(&event->name, "cli_parsed")) {
    const value_t *command = lookup(&event->payload, "command");
    if (command && command->tag == PRECEPT_PLUGIN_TYPES_VALUE_TEXT) {
      char *name = c_string(&command->val.text);
      snprintf(line, sizeof line, "cli_parsed:%s", name);
      free(name);
    } else {
      snprintf(line, sizeof line, "cli_parsed:-");
    }
    record(line);
  } else if (str_is(&event->name, "conformance_ping")) {
    const value_t *n = lookup(&event->payload, "n");
    if (n && n->tag == PRECEPT_PLUGIN_TYPES_VALUE_INTEGER) {
      snprintf(line, sizeof line, "ping:%lld", (long long)n->val.integer);
      record(line);
      char *word = greeting();
      precept_plugin_types_tuple2_string_value_t entries[2] = {
          {str("n"), integer_value(n->val.integer + 1)},
          {str("greeting"), text_value(word)},
      };
      precept_plugin_events_payload_t payload = {entries, 2};
      plugin_string_t pong = str("conformance_pong");
      precept_plugin_events_dispatch(&pong, &payload);
      free(word);
    } else {
      ok = fail(err, "conformance_ping needs an integer n");
    }
  } else if (str_is(&event->name, "conformance_tick")) {
    // Nothing: the cost of one event.
  } else if (str_is(&event->name, "conformance_fetch")) {
    const value_t *url = lookup(&event->payload, "url");
    char *address = url && url->tag == PRECEPT_PLUGIN_TYPES_VALUE_TEXT ? c_string(&url->val.text)
                                                                        : strdup("");
    uint16_t status;
    char *body;
    if (fetch(address, &status, &body)) {
      char *fetched = malloc(strlen(body) + 32);
      sprintf(fetched, "fetched:%u:%s", status, body);
      record(fetched);
      free(fetched);
      free(body);
    } else {
      record("fetch_failed");
    }
    free(address);
  } else if (str_is(&event->name, "conformance_stop")) {
    record("stop");
    *stop = true;
  } else {
    char *name = c_string(&event->name);
    record(name);
    free(name);
  }
  plugin_event_free(event);
  return ok;
}

// Records one step of the conformance service.
static bool service_step(const char *step, plugin_string_t *name, plugin_string_t *err) {
  char line[96];
  char *service = c_string(name);
  bool known = strcmp(service, SERVICE) == 0;
  if (known) {
    snprintf(line, sizeof line, "service_%s:%s", step, service);
    record(line);
  } else {
    snprintf(line, sizeof line, "unknown service %s", service);
    fail(err, line);
  }
  free(service);
  plugin_string_free(name);
  return known;
}

bool exports_plugin_service_setup(plugin_string_t *name, plugin_string_t *err) {
  return service_step("setup", name, err);
}

bool exports_plugin_service_start(plugin_string_t *name, plugin_string_t *err) {
  return service_step("start", name, err);
}

bool exports_plugin_service_stop(plugin_string_t *name, plugin_string_t *err) {
  return service_step("stop", name, err);
}

// Greets as `conform` does; fails with a message in `err`.
static bool conform(const plugin_payload_t *args, plugin_string_t *err) {
  const value_t *times = lookup(args, "times");
  int64_t count = times && times->tag == PRECEPT_PLUGIN_TYPES_VALUE_INTEGER ? times->val.integer : 1;
  if (count < 0) {
    return fail(err, "--times must not be negative");
  }
  const value_t *who = lookup(args, "name");
  char *name = who && who->tag == PRECEPT_PLUGIN_TYPES_VALUE_TEXT ? c_string(&who->val.text)
                                                                  : strdup("");
  const value_t *loud = lookup(args, "loud");
  char *word = greeting();
  size_t size = strlen(word) + strlen(name) + 4;
  char *line = malloc(size);
  snprintf(line, size, "%s, %s!", word, name);
  if (loud && loud->tag == PRECEPT_PLUGIN_TYPES_VALUE_BOOLEAN && loud->val.boolean) {
    for (char *c = line; *c; c++) {
      *c = (char)toupper((unsigned char)*c);
    }
  }
  for (int64_t i = 0; i < count; i++) {
    puts(line);
  }
  fflush(stdout);
  plugin_string_t var = str("conformance_greeting");
  value_t value = text_value(line);
  precept_plugin_app_set_var(&var, &value);

  char *message = malloc(strlen(name) + 9);
  sprintf(message, "greeted %s", name);
  log_info(message);
  free(message);
  free(line);
  free(word);
  free(name);
  return true;
}

bool exports_plugin_run_command(plugin_string_t *name, plugin_payload_t *args,
                                plugin_string_t *err) {
  bool ok;
  if (str_is(name, "conform")) {
    ok = conform(args, err);
  } else {
    char *command = c_string(name);
    char message[96];
    snprintf(message, sizeof message, "unknown command %s", command);
    free(command);
    ok = fail(err, message);
  }
  plugin_string_free(name);
  plugin_payload_free(args);
  return ok;
}
