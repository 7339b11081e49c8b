// The C SDK: the world's exports, calling the plugin's hooks, and the
// helpers of precept.h. See precept.h.

#include "precept.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// --- What one hook may use: the error it fails with, and the memory given
// to the plugin, freed when the hook returns.

static plugin_string_t *failure;
static bool failed;
static void **arena;
static size_t arena_len, arena_cap;

static void *keep(void *p) {
  if (arena_len == arena_cap) {
    arena_cap = arena_cap ? arena_cap * 2 : 16;
    arena = realloc(arena, arena_cap * sizeof *arena);
  }
  arena[arena_len++] = p;
  return p;
}

static void begin(plugin_string_t *err) {
  failure = err;
  failed = false;
}

static bool end(void) {
  for (size_t i = 0; i < arena_len; i++) free(arena[i]);
  arena_len = 0;
  fflush(stdout);
  return !failed;
}

void precept_fail(const char *format, ...) {
  if (failed) return;
  failed = true;
  char message[512];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof message, format, args);
  va_end(args);
  plugin_string_dup(failure, message);
}

static plugin_string_t str(const char *s) {
  plugin_string_t out;
  plugin_string_set(&out, s);
  return out;
}

static const char *c_string(const plugin_string_t *s) {
  char *out = keep(malloc(s->len + 1));
  memcpy(out, s->ptr, s->len);
  out[s->len] = '\0';
  return out;
}

// --- Hooks' defaults ---------------------------------------------------------

__attribute__((weak)) void on_setup(void) {}

__attribute__((weak)) bool on_event(const precept_event *event) {
  (void)event;
  return false;
}

__attribute__((weak)) void on_service(precept_step step, const char *service) {
  (void)step;
  (void)service;
}

__attribute__((weak)) void on_command(const char *command, const precept_payload *args) {
  (void)args;
  precept_fail("this plugin has no command %s", command);
}

// --- The exports: arguments converted, owned and freed here ------------------

bool exports_plugin_setup(plugin_string_t *err) {
  begin(err);
  on_setup();
  return end();
}

bool exports_plugin_on_event(plugin_event_t *event, bool *stop, plugin_string_t *err) {
  begin(err);
  precept_event e = {c_string(&event->name), &event->payload, event->num, event->timestamp};
  *stop = on_event(&e);
  plugin_event_free(event);
  return end();
}

static bool service(precept_step step, plugin_string_t *name, plugin_string_t *err) {
  begin(err);
  on_service(step, c_string(name));
  plugin_string_free(name);
  return end();
}

bool exports_plugin_service_setup(plugin_string_t *name, plugin_string_t *err) {
  return service(PRECEPT_SETUP, name, err);
}

bool exports_plugin_service_start(plugin_string_t *name, plugin_string_t *err) {
  return service(PRECEPT_START, name, err);
}

bool exports_plugin_service_stop(plugin_string_t *name, plugin_string_t *err) {
  return service(PRECEPT_STOP, name, err);
}

bool exports_plugin_run_command(plugin_string_t *name, plugin_payload_t *args,
                                plugin_string_t *err) {
  begin(err);
  on_command(c_string(name), args);
  plugin_string_free(name);
  plugin_payload_free(args);
  return end();
}

// --- Payloads ------------------------------------------------------------------

static const precept_plugin_types_value_t *lookup(const precept_payload *payload,
                                                  const char *key) {
  size_t len = strlen(key);
  for (size_t i = 0; i < payload->len; i++) {
    const plugin_string_t *name = &payload->ptr[i].f0;
    if (name->len == len && memcmp(name->ptr, key, len) == 0) return &payload->ptr[i].f1;
  }
  return NULL;
}

bool precept_int(const precept_payload *payload, const char *key, int64_t *out) {
  const precept_plugin_types_value_t *v = lookup(payload, key);
  if (!v || v->tag != PRECEPT_PLUGIN_TYPES_VALUE_INTEGER) return false;
  *out = v->val.integer;
  return true;
}

const char *precept_text(const precept_payload *payload, const char *key) {
  const precept_plugin_types_value_t *v = lookup(payload, key);
  return v && v->tag == PRECEPT_PLUGIN_TYPES_VALUE_TEXT ? c_string(&v->val.text) : NULL;
}

bool precept_flag(const precept_payload *payload, const char *key) {
  const precept_plugin_types_value_t *v = lookup(payload, key);
  return v && v->tag == PRECEPT_PLUGIN_TYPES_VALUE_BOOLEAN && v->val.boolean;
}

static precept_plugin_types_value_t value_of(const precept_entry *e) {
  precept_plugin_types_value_t v;
  switch (e->type) {
    case 'i':
      v.tag = PRECEPT_PLUGIN_TYPES_VALUE_INTEGER;
      v.val.integer = e->i;
      break;
    case 'f':
      v.tag = PRECEPT_PLUGIN_TYPES_VALUE_FLOAT;
      v.val.float_ = e->f;
      break;
    case 'b':
      v.tag = PRECEPT_PLUGIN_TYPES_VALUE_BOOLEAN;
      v.val.boolean = e->i != 0;
      break;
    default:
      v.tag = PRECEPT_PLUGIN_TYPES_VALUE_TEXT;
      v.val.text = str(e->t);
  }
  return v;
}

// --- Events and the application ---------------------------------------------------

void precept_subscribe_all(const char *const *names) {
  for (; *names; names++) {
    plugin_string_t name = str(*names);
    precept_plugin_events_subscribe(&name);
  }
}

void precept_unsubscribe(const char *name) {
  plugin_string_t n = str(name);
  precept_plugin_events_unsubscribe(&n);
}

void precept_dispatch_entries(const char *name, const precept_entry *entries, size_t count) {
  precept_plugin_types_tuple2_string_value_t *items =
      keep(calloc(count ? count : 1, sizeof *items));
  for (size_t i = 0; i < count; i++) {
    items[i].f0 = str(entries[i].key);
    items[i].f1 = value_of(&entries[i]);
  }
  precept_plugin_events_payload_t payload = {items, count};
  plugin_string_t n = str(name);
  precept_plugin_events_dispatch(&n, &payload);
}

const char *precept_var_text(const char *name) {
  plugin_string_t n = str(name);
  precept_plugin_types_value_t value;
  if (!precept_plugin_app_get_var(&n, &value)) return NULL;
  const char *text = value.tag == PRECEPT_PLUGIN_TYPES_VALUE_TEXT ? c_string(&value.val.text) : NULL;
  precept_plugin_types_value_free(&value);
  return text;
}

void precept_set_text(const char *name, const char *value) {
  plugin_string_t n = str(name);
  precept_plugin_types_value_t v = {.tag = PRECEPT_PLUGIN_TYPES_VALUE_TEXT, .val.text = str(value)};
  precept_plugin_app_set_var(&n, &v);
}

bool precept_append_text(const char *name, const char *item) {
  plugin_string_t n = str(name), err;
  precept_plugin_types_scalar_t s = {.tag = PRECEPT_PLUGIN_TYPES_SCALAR_TEXT, .val.text = str(item)};
  uint32_t len;
  if (precept_plugin_app_append_var(&n, &s, &len, &err)) return true;
  plugin_string_free(&err);
  return false;
}

bool precept_add(const char *name, int64_t delta, int64_t *total) {
  plugin_string_t n = str(name), err;
  int64_t value;
  if (!precept_plugin_app_add_var(&n, delta, &value, &err)) {
    plugin_string_free(&err);
    return false;
  }
  if (total) *total = value;
  return true;
}

// precept.h's own names stand for the generated ones, in the same order.
_Static_assert(PRECEPT_LOG_ERROR == PRECEPT_PLUGIN_LOG_LEVEL_ERROR, "log levels");
_Static_assert(PRECEPT_KIND_BOOLEAN == PRECEPT_PLUGIN_COMMANDS_VALUE_KIND_BOOLEAN, "value kinds");

void precept_log(precept_log_level level, const char *format, ...) {
  char message[1024];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof message, format, args);
  va_end(args);
  plugin_string_t m = str(message);
  precept_plugin_log_log((precept_plugin_log_level_t)level, &m);
}

void precept_declare_text(const char *key, const char *help, const char *fallback) {
  plugin_string_t k = str(key), h = str(help);
  precept_plugin_types_value_t v = {.tag = PRECEPT_PLUGIN_TYPES_VALUE_TEXT, .val.text = str(fallback)};
  precept_plugin_config_declare(&k, &h, &v);
}

const char *precept_config_text(const char *key, const char *fallback) {
  plugin_string_t k = str(key);
  precept_plugin_types_value_t value;
  if (!precept_plugin_config_get(&k, &value)) return fallback;
  const char *text =
      value.tag == PRECEPT_PLUGIN_TYPES_VALUE_TEXT ? c_string(&value.val.text) : fallback;
  precept_plugin_types_value_free(&value);
  return text;
}

void precept_add_command_args(const char *name, const char *help, const precept_arg *args,
                              size_t count) {
  precept_plugin_commands_arg_spec_t *specs = keep(calloc(count ? count : 1, sizeof *specs));
  for (size_t i = 0; i < count; i++) {
    const precept_arg *a = &args[i];
    specs[i] = (precept_plugin_commands_arg_spec_t){
        .name = str(a->name),
        .help = str(a->help),
        .style = (precept_plugin_commands_arg_style_t)a->style,
        .kind = (precept_plugin_commands_value_kind_t)a->kind,
        .short_ = {a->short_ != 0, (uint32_t)a->short_},
        .required = a->required,
        .repeated = a->repeated,
        .default_ = {a->default_ != NULL, a->default_ ? str(a->default_) : (plugin_string_t){0}},
    };
  }
  precept_plugin_commands_command_spec_t spec = {str(name), str(help), {specs, count}};
  precept_plugin_commands_add_command(&spec);
}

void precept_add_service(const char *name, const char *command) {
  plugin_string_t n = str(name), c = str(command ? command : "");
  precept_plugin_services_add_service(&n, command ? &c : NULL);
}

bool precept_service_running(const char *name) {
  plugin_string_t n = str(name);
  bool running;
  return precept_plugin_services_is_running(&n, &running) && running;
}

// --- HTTP (wasi:http): every handle dropped before its parent ------------------

bool precept_http_get(const char *url, uint16_t *status, const char **body) {
  const char *rest = strstr(url, "://");
  if (rest == NULL) return false;
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
  if (!answered || got.is_err) return false;
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
      wasi_io_streams_stream_error_t stop;
      while (wasi_io_streams_method_input_stream_blocking_read(
          wasi_io_streams_borrow_input_stream(stream), 65536, &chunk, &stop)) {
        text = realloc(text, len + chunk.len + 1);
        memcpy(text + len, chunk.ptr, chunk.len);
        len += chunk.len;
        plugin_list_u8_free(&chunk);
      }
      wasi_io_streams_stream_error_free(&stop);
      wasi_io_streams_input_stream_drop_own(stream);
    }
    wasi_http_types_incoming_body_drop_own(incoming);
  }
  wasi_http_types_incoming_response_drop_own(response);
  text[len] = '\0';
  *body = keep(text);
  return true;
}
