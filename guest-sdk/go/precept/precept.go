// Package precept writes precept plugins in Go.
//
// A plugin is a package that registers its hooks when it initialises;
// every hook has a default (do nothing, let the event go on), so a plugin
// registers only what it uses:
//
//	func init() {
//		precept.OnSetup(func() error {
//			precept.Subscribe("cli_started")
//			return nil
//		})
//		precept.OnEvent(func(event precept.Event) error {
//			fmt.Println("hello from", event.Name)
//			return nil
//		})
//	}
//
// Commands and services carry their own handlers ([AddCommand],
// [AddService]). A hook that returns an error, or panics, fails its call:
// the message is reported with the plugin's name and the plugin goes on.
//
// precept-build compiles this package, the bindings of the
// `precept:plugin` world and the plugin into one component.
package precept

import (
	"errors"
	"fmt"
	"time"

	witTypes "go.bytecodealliance.org/pkg/wit/types"
	"precept.dev/sdk/exports/export_wit_world"
	_ "precept.dev/sdk/exports/wit_exports" // the component's exports
	"precept.dev/sdk/imports/precept_plugin_types"
)

// An Event as one subscriber receives it.
type Event struct {
	// The event's name, e.g. "cli_started".
	Name string
	// Its values by name.
	Payload Payload
	// How many subscribers handled it before this one.
	Num uint32
	// When it was dispatched.
	Timestamp time.Time
}

// Stop, returned by the event hook, keeps the event from later
// subscribers. It is not a failure.
var Stop = errors.New("stop propagation")

var (
	setupHook = func() error { return nil }
	eventHook = func(Event) error { return nil }
	commands  = map[string]func(Payload) error{}
	services  = map[string]*Service{}
)

// OnSetup sets the hook run once when the plugin is loaded: where it
// subscribes to events, declares configuration and adds commands and
// services.
func OnSetup(hook func() error) { setupHook = hook }

// OnEvent sets the hook run for every event the plugin subscribed to.
// Returning [Stop] keeps the event from later subscribers; returning
// another error fails the call.
func OnEvent(hook func(Event) error) { eventHook = hook }

func init() {
	export_wit_world.Setup = func() export_wit_world.Failure {
		return outcome(setupHook)
	}
	export_wit_world.OnEvent = func(event precept_plugin_types.Event) witTypes.Result[bool, string] {
		stopped := false
		result := outcome(func() error {
			err := eventHook(Event{
				Name:      event.Name,
				Payload:   fromPayload(event.Payload),
				Num:       event.Num,
				Timestamp: time.UnixMicro(int64(event.Timestamp)),
			})
			if errors.Is(err, Stop) {
				stopped = true
				return nil
			}
			return err
		})
		if result.IsErr() {
			return witTypes.Err[bool](result.Err())
		}
		return witTypes.Ok[bool, string](stopped)
	}
	export_wit_world.ServiceSetup = serviceStep(func(s *Service) func() error { return s.Setup })
	export_wit_world.ServiceStart = serviceStep(func(s *Service) func() error { return s.Start })
	export_wit_world.ServiceStop = serviceStep(func(s *Service) func() error { return s.Stop })
	export_wit_world.RunCommand = func(name string, args precept_plugin_types.Payload) export_wit_world.Failure {
		run, ok := commands[name]
		if !ok {
			return witTypes.Err[witTypes.Unit]("unknown command " + name)
		}
		return outcome(func() error {
			if run == nil {
				return nil
			}
			return run(fromPayload(args))
		})
	}
}

// serviceStep answers one step of a service's life with the hook `step`
// picks from it.
func serviceStep(step func(*Service) func() error) func(string) export_wit_world.Failure {
	return func(name string) export_wit_world.Failure {
		service, ok := services[name]
		if !ok {
			return witTypes.Err[witTypes.Unit]("unknown service " + name)
		}
		return outcome(func() error {
			if hook := step(service); hook != nil {
				return hook()
			}
			return nil
		})
	}
}

// outcome runs a hook: its error, or a panic, becomes the call's failure.
func outcome(hook func() error) (result export_wit_world.Failure) {
	defer func() {
		if panicked := recover(); panicked != nil {
			result = witTypes.Err[witTypes.Unit](fmt.Sprint(panicked))
		}
	}()
	if err := hook(); err != nil {
		return witTypes.Err[witTypes.Unit](err.Error())
	}
	return witTypes.Ok[witTypes.Unit, string](witTypes.Unit{})
}
