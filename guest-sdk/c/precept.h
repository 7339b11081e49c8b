// Write precept plugins in C.
//
// `precept-build` compiles `precept.c` with the plugin and puts this header
// on its include path. A plugin defines only the hooks it uses; each has a
// default (do nothing, let the event go on, no command):
//
//   void on_setup(void);
//   bool on_event(const precept_event *event);  // true: later subscribers do not see it
//   void on_service(precept_step step, const char *service);
//   void on_command(const char *command, const precept_payload *args);
//
// The SDK owns everything it hands over: strings are NUL-terminated and
// valid until the hook returns; the plugin frees nothing it was given. A
// hook fails its call with `precept_fail("why %d", n)`: the message is
// reported with the plugin's name and the plugin goes on.

#ifndef PRECEPT_H
#define PRECEPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin.h"

// The values of an event, or a command's arguments, by name.
typedef plugin_payload_t precept_payload;

// An event as one subscriber receives it.
typedef struct {
  const char *name;                // e.g. "cli_started"
  const precept_payload *payload;  // read with precept_int, precept_text, ...
  uint32_t num;                    // how many subscribers handled it before
  uint64_t timestamp;              // when it was dispatched, µs since the epoch
} precept_event;

// A step of a service's life.
typedef enum { PRECEPT_SETUP, PRECEPT_START, PRECEPT_STOP } precept_step;

void on_setup(void);
bool on_event(const precept_event *event);
void on_service(precept_step step, const char *service);
void on_command(const char *command, const precept_payload *args);

// Fails the running hook with a printf-style message (the first one wins).
void precept_fail(const char *format, ...);

// --- Reading a payload ---------------------------------------------------

// The integer `key`; false when absent or not an integer.
bool precept_int(const precept_payload *payload, const char *key, int64_t *out);
// The text `key`; NULL when absent or not text.
const char *precept_text(const precept_payload *payload, const char *key);
// Whether the flag `key` is given and true.
bool precept_flag(const precept_payload *payload, const char *key);

// --- Events --------------------------------------------------------------

// One payload entry to dispatch: PRECEPT_INT("n", 1), PRECEPT_TEXT("who", s).
typedef struct {
  const char *key;
  char type;  // 'i', 'f', 'b', 't'
  int64_t i;
  double f;
  const char *t;
} precept_entry;
#define PRECEPT_INT(k, v) ((precept_entry){.key = (k), .type = 'i', .i = (v)})
#define PRECEPT_FLOAT(k, v) ((precept_entry){.key = (k), .type = 'f', .f = (v)})
#define PRECEPT_BOOL(k, v) ((precept_entry){.key = (k), .type = 'b', .i = (v)})
#define PRECEPT_TEXT(k, v) ((precept_entry){.key = (k), .type = 't', .t = (v)})

// precept_subscribe("a", "b", ...): deliver these events to on_event.
#define precept_subscribe(...) precept_subscribe_all((const char *[]){__VA_ARGS__, NULL})
void precept_subscribe_all(const char *const *names);
void precept_unsubscribe(const char *name);
// precept_dispatch("pong", PRECEPT_INT("n", 2), ...): delivered once the
// hook returns. Without entries: precept_dispatch_entries(name, NULL, 0).
#define precept_dispatch(name, ...)                                  \
  precept_dispatch_entries((name), (precept_entry[]){__VA_ARGS__}, \
                           sizeof((precept_entry[]){__VA_ARGS__}) / sizeof(precept_entry))
void precept_dispatch_entries(const char *name, const precept_entry *entries, size_t count);

// --- The application -----------------------------------------------------

// The text variable `name`; NULL when unset or not text.
const char *precept_var_text(const char *name);
void precept_set_text(const char *name, const char *value);
// Appends `item` to the list variable `name` in one step (no concurrent
// append is lost); false when it holds something else.
bool precept_append_text(const char *name, const char *item);
// Adds `delta` to the integer variable `name` in one step; its new value
// in `*total` (when not NULL); false when it holds something else.
bool precept_add(const char *name, int64_t delta, int64_t *total);

// --- Log, configuration, commands, services --------------------------------

// How much a log line matters, least first.
typedef enum {
  PRECEPT_LOG_TRACE,
  PRECEPT_LOG_DEBUG,
  PRECEPT_LOG_INFO,
  PRECEPT_LOG_WARN,
  PRECEPT_LOG_ERROR
} precept_log_level;
void precept_log(precept_log_level level, const char *format, ...);
#define precept_info(...) precept_log(PRECEPT_LOG_INFO, __VA_ARGS__)
#define precept_warn(...) precept_log(PRECEPT_LOG_WARN, __VA_ARGS__)

// Declares the text configuration key `key` (in on_setup).
void precept_declare_text(const char *key, const char *help, const char *fallback);
// The text configuration value `key`, else `fallback`.
const char *precept_config_text(const char *key, const char *fallback);

// One argument of a command:
//   (precept_arg){"times", "How many times", PRECEPT_OPTION, PRECEPT_KIND_INTEGER, .default_ = "1"}
typedef enum { PRECEPT_FLAG, PRECEPT_COUNT, PRECEPT_OPTION, PRECEPT_POSITIONAL } precept_style;
typedef enum {
  PRECEPT_KIND_TEXT,
  PRECEPT_KIND_INTEGER,
  PRECEPT_KIND_FLOAT,
  PRECEPT_KIND_BOOLEAN
} precept_kind;
typedef struct {
  const char *name, *help;
  precept_style style;
  precept_kind kind;
  char short_;
  bool required, repeated;
  const char *default_;
} precept_arg;
// precept_add_command("greet", "Greet someone", (precept_arg){...}, ...)
#define precept_add_command(name, help, ...)                               \
  precept_add_command_args((name), (help), (precept_arg[]){__VA_ARGS__}, \
                           sizeof((precept_arg[]){__VA_ARGS__}) / sizeof(precept_arg))
void precept_add_command_args(const char *name, const char *help, const precept_arg *args,
                              size_t count);
// Declares a service, for every command (`command` NULL) or one.
void precept_add_service(const char *name, const char *command);
// Whether the service `name` runs (false also when there is none).
bool precept_service_running(const char *name);

// --- HTTP, to the hosts the plugin was granted -----------------------------

// GET `url`: true with the status and the body (valid until the hook
// returns); false when no response came (refused, unreachable).
bool precept_http_get(const char *url, uint16_t *status, const char **body);

#endif
