package precept

import (
	"errors"
	"fmt"
	"time"

	witTypes "go.bytecodealliance.org/pkg/wit/types"
	"precept.dev/sdk/imports/precept_plugin_app"
	"precept.dev/sdk/imports/precept_plugin_capabilities"
	"precept.dev/sdk/imports/precept_plugin_commands"
	"precept.dev/sdk/imports/precept_plugin_config"
	"precept.dev/sdk/imports/precept_plugin_events"
	"precept.dev/sdk/imports/precept_plugin_log"
	"precept.dev/sdk/imports/precept_plugin_services"
	"precept.dev/sdk/imports/precept_plugin_timers"
)

// --- Events ---------------------------------------------------------------

// Subscribe delivers the events `names` to the event hook.
func Subscribe(names ...string) {
	for _, name := range names {
		precept_plugin_events.Subscribe(name)
	}
}

// Unsubscribe stops delivering the events `names`.
func Unsubscribe(names ...string) {
	for _, name := range names {
		precept_plugin_events.Unsubscribe(name)
	}
}

// Dispatch sends the event `name` with `payload` (nil for none) to its
// subscribers, once the running hook returns.
func Dispatch(name string, payload Payload) {
	precept_plugin_events.Dispatch(name, toPayload(payload))
}

// --- The application ------------------------------------------------------

// ProgName is the application's program name.
func ProgName() string { return precept_plugin_app.ProgName() }

// Version is the application's version.
func Version() string { return precept_plugin_app.Version() }

// Var is the application variable `name`; nil when it is unset.
func Var(name string) any {
	value := precept_plugin_app.GetVar(name)
	if value.IsNone() {
		return nil
	}
	return fromValue(value.Some())
}

// SetVar sets the application variable `name`.
func SetVar(name string, value any) {
	precept_plugin_app.SetVar(name, toValue(value))
}

// AddVar adds `delta` to the integer variable `name` (0 when unset) in one
// step, and returns its new value; an error when it holds something else.
func AddVar(name string, delta int64) (int64, error) {
	return fromResult(precept_plugin_app.AddVar(name, delta))
}

// AppendVar appends `item` (a scalar) to the list variable `name` in one
// step, so that no concurrent append is lost, and returns its new length.
func AppendVar(name string, item any) (int, error) {
	scalar, ok := toScalar(item)
	if !ok {
		return 0, fmt.Errorf("%s: a list holds booleans, numbers and text, not %T", name, item)
	}
	length, err := fromResult(precept_plugin_app.AppendVar(name, scalar))
	return int(length), err
}

func fromResult[T any](result witTypes.Result[T, string]) (T, error) {
	if result.IsErr() {
		var zero T
		return zero, errors.New(result.Err())
	}
	return result.Ok(), nil
}

// --- Log -------------------------------------------------------------------

// Level is how important a log message is.
type Level = precept_plugin_log.Level

// The log levels.
const (
	LevelTrace Level = precept_plugin_log.Level_Trace
	LevelDebug Level = precept_plugin_log.Level_Debug
	LevelInfo  Level = precept_plugin_log.Level_Info
	LevelWarn  Level = precept_plugin_log.Level_Warn
	LevelError Level = precept_plugin_log.Level_Error
)

// Log writes a message to the application's log, tagged with the
// plugin's name.
func Log(level Level, format string, args ...any) {
	precept_plugin_log.Log(level, fmt.Sprintf(format, args...))
}

// Info logs at level info.
func Info(format string, args ...any) { Log(LevelInfo, format, args...) }

// Warn logs at level warn.
func Warn(format string, args ...any) { Log(LevelWarn, format, args...) }

// --- Configuration --------------------------------------------------------

// DeclareConfig declares the configuration key `key` with its help and
// default (in the setup hook).
func DeclareConfig(key, help string, fallback any) {
	precept_plugin_config.Declare(key, help, toValue(fallback))
}

// Config is the configuration value `key`: the user's, else its default;
// nil when it was not declared.
func Config(key string) any {
	value := precept_plugin_config.Get(key)
	if value.IsNone() {
		return nil
	}
	return fromValue(value.Some())
}

// --- Commands ---------------------------------------------------------------

// Style is how an argument appears on the command line.
type Style uint8

// The argument styles; an [Arg] is an option unless it says otherwise.
const (
	Option     Style = iota // --name VALUE
	Flag                    // --name, true when given
	Count                   // --name, repeatable: how many times
	Positional              // a bare value, in the order declared
)

// Kind is the type of an argument's values.
type Kind uint8

// The argument kinds; an [Arg] is text unless it says otherwise.
const (
	Text Kind = iota
	Integer
	Float
	Boolean
)

// Arg is one argument of a command.
type Arg struct {
	Name, Help string
	Style      Style
	Kind       Kind
	Short      rune // e.g. 'n' for -n; 0 for none
	Required   bool
	Repeated   bool   // may be given several times (a list)
	Default    string // as typed on a command line; "" for none
}

// Command is a command the plugin adds to the application.
type Command struct {
	Name, Help string
	Args       []Arg
	// Run runs the command with its arguments by name. It may be nil.
	Run func(args Payload) error
}

// AddCommand adds `command` to the application (in the setup hook).
func AddCommand(command Command) {
	styles := [...]uint8{
		Option:     precept_plugin_commands.ArgStyle_Option,
		Flag:       precept_plugin_commands.ArgStyle_Flag,
		Count:      precept_plugin_commands.ArgStyle_Count,
		Positional: precept_plugin_commands.ArgStyle_Positional,
	}
	args := make([]precept_plugin_commands.ArgSpec, len(command.Args))
	for i, arg := range command.Args {
		spec := precept_plugin_commands.ArgSpec{
			Name:     arg.Name,
			Help:     arg.Help,
			Style:    styles[arg.Style],
			Kind:     uint8(arg.Kind),
			Short:    witTypes.None[rune](),
			Required: arg.Required,
			Repeated: arg.Repeated,
			Default:  witTypes.None[string](),
		}
		if arg.Short != 0 {
			spec.Short = witTypes.Some(arg.Short)
		}
		if arg.Default != "" {
			spec.Default = witTypes.Some(arg.Default)
		}
		args[i] = spec
	}
	precept_plugin_commands.AddCommand(precept_plugin_commands.CommandSpec{
		Name: command.Name, Help: command.Help, Args: args,
	})
	commands[command.Name] = command.Run
}

// --- Services ---------------------------------------------------------------

// Service runs alongside the application: set up, started and stopped
// with it. Its hooks may be nil.
type Service struct {
	Name string
	// The command it runs with; "" for every command.
	Command            string
	Setup, Start, Stop func() error
}

// AddService declares `service` (in the setup hook).
func AddService(service Service) {
	command := witTypes.None[string]()
	if service.Command != "" {
		command = witTypes.Some(service.Command)
	}
	precept_plugin_services.AddService(service.Name, command)
	services[service.Name] = &service
}

// ServiceRunning says whether the service `name` (of any plugin, or of
// the application) runs; known is false when there is no such service.
func ServiceRunning(name string) (running, known bool) {
	state := precept_plugin_services.IsRunning(name)
	if state.IsNone() {
		return false, false
	}
	return state.Some(), true
}

// --- Timers ---------------------------------------------------------------

// Timer is a timer the plugin set.
type Timer uint64

// After dispatches the event `event` with `payload` once, after `delay`.
func After(delay time.Duration, event string, payload Payload) (Timer, error) {
	id, err := fromResult(precept_plugin_timers.SetTimeout(millis(delay), event, toPayload(payload)))
	return Timer(id), err
}

// Every dispatches the event `event` with `payload` every `period`, until
// cancelled.
func Every(period time.Duration, event string, payload Payload) (Timer, error) {
	id, err := fromResult(precept_plugin_timers.SetInterval(millis(period), event, toPayload(payload)))
	return Timer(id), err
}

// Cancel stops the timer; nothing more is dispatched for it.
func (t Timer) Cancel() { precept_plugin_timers.Cancel(uint64(t)) }

func millis(d time.Duration) uint32 {
	ms := d.Milliseconds()
	if ms > int64(^uint32(0)) {
		return ^uint32(0)
	}
	if ms < 0 {
		return 0
	}
	return uint32(ms)
}

// --- Capabilities -----------------------------------------------------------

// Grant is one capability the user granted the plugin: a directory (its
// Path, and whether it is Writable), an environment variable (Env) or a
// network host (Net, as host:port).
type Grant struct {
	Path     string
	Writable bool
	Env      string
	Net      string
}

// Granted lists what the user granted the plugin.
func Granted() []Grant {
	var grants []Grant
	for _, grant := range precept_plugin_capabilities.Granted() {
		switch grant.Tag() {
		case precept_plugin_capabilities.Grant_Directory:
			dir := grant.Directory()
			grants = append(grants, Grant{
				Path:     dir.Path,
				Writable: dir.Access == precept_plugin_capabilities.Access_ReadWrite,
			})
		case precept_plugin_capabilities.Grant_Env:
			grants = append(grants, Grant{Env: grant.Env()})
		case precept_plugin_capabilities.Grant_Net:
			grants = append(grants, Grant{Net: grant.Net()})
		}
	}
	return grants
}

// DataDir is where the plugin keeps its files (`/data`), when it declared
// a data directory.
func DataDir() (string, bool) {
	for _, grant := range Granted() {
		if grant.Path == "/data" {
			return grant.Path, true
		}
	}
	return "", false
}
