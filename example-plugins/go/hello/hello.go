// Package hello prints a line for each CLI lifecycle event, as the Rust `hello` does.
package hello

import (
	"fmt"

	"precept.dev/sdk/precept"
)

func init() {
	precept.OnSetup(func() error {
		precept.Subscribe("before_cli_start", "cli_parsed", "cli_started", "cli_stopped", "keyboard_interrupt")
		fmt.Println("hello: setup")
		return nil
	})
	precept.OnEvent(func(event precept.Event) error {
		fmt.Printf("hello: %s\n", event.Name)
		return nil
	})
}
