// Package export_wit_world is where the generated bindings call the
// plugin's exports. Package precept sets each one when it initialises, so
// that a plugin only registers the hooks it uses.
package export_wit_world

import (
	witTypes "go.bytecodealliance.org/pkg/wit/types"
	"precept.dev/sdk/imports/precept_plugin_types"
)

// Failure is a call's outcome: ok, or the message it failed with.
type Failure = witTypes.Result[witTypes.Unit, string]

// The plugin's exports, as `precept:plugin` declares them.
var (
	Setup        func() Failure
	OnEvent      func(event precept_plugin_types.Event) witTypes.Result[bool, string]
	ServiceSetup func(name string) Failure
	ServiceStart func(name string) Failure
	ServiceStop  func(name string) Failure
	RunCommand   func(name string, args precept_plugin_types.Payload) Failure
)
