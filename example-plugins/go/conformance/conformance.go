// Package conformance is the conformance plugin of docs/CONFORMANCE.md, in
// Go, on the Go SDK (precept.dev/sdk/precept, which precept-build compiles
// with it).
package conformance

import (
	"errors"
	"fmt"
	"strings"

	"precept.dev/sdk/precept"
)

const service = "conformance_svc"

// record appends `entry` to the list variable `conformance_seen`, in one step.
func record(entry string) error {
	_, err := precept.AppendVar("conformance_seen", entry)
	return err
}

func init() {
	precept.OnSetup(setup)
	precept.OnEvent(onEvent)
}

func setup() error {
	precept.DeclareConfig("greeting", "The word to greet with", "Hello")
	precept.Subscribe("before_cli_start", "cli_parsed", "cli_started", "cli_stopped",
		"conformance_ping", "conformance_stop", "conformance_tick", "conformance_fetch")
	precept.SetVar("conformance_language", "go")
	precept.AddCommand(precept.Command{
		Name: "conform",
		Help: "Greet someone, as every conformance plugin does",
		Args: []precept.Arg{
			{Name: "name", Help: "Who to greet", Short: 'n', Required: true},
			{Name: "times", Help: "How many times", Kind: precept.Integer, Default: "1"},
			{Name: "loud", Help: "Greet in capitals", Style: precept.Flag},
		},
		Run: conform,
	})
	step := func(name string) func() error {
		return func() error { return record("service_" + name + ":" + service) }
	}
	precept.AddService(precept.Service{
		Name: service, Setup: step("setup"), Start: step("start"), Stop: step("stop"),
	})
	precept.Info("conformance plugin ready")
	return nil
}

func onEvent(event precept.Event) error {
	switch event.Name {
	case "cli_parsed":
		command, ok := event.Payload.Text("command")
		if !ok {
			command = "-"
		}
		return record("cli_parsed:" + command)
	case "conformance_ping":
		n, ok := event.Payload.Int("n")
		if !ok {
			return errors.New("conformance_ping needs an integer n")
		}
		if err := record(fmt.Sprintf("ping:%d", n)); err != nil {
			return err
		}
		precept.Dispatch("conformance_pong", precept.Payload{"n": n + 1, "greeting": precept.Config("greeting")})
		return nil
	case "conformance_tick":
		return nil
	case "conformance_fetch":
		url, _ := event.Payload.Text("url")
		response, err := precept.HTTPGet(url)
		if err != nil {
			return record("fetch_failed")
		}
		return record(fmt.Sprintf("fetched:%d:%s", response.Status, response.Body))
	case "conformance_stop":
		if err := record("stop"); err != nil {
			return err
		}
		return precept.Stop
	}
	return record(event.Name)
}

func conform(args precept.Payload) error {
	times, _ := args.Int("times")
	if times < 0 {
		return errors.New("--times must not be negative")
	}
	name, _ := args.Text("name")
	line := fmt.Sprintf("%v, %s!", precept.Config("greeting"), name)
	if args.Flag("loud") {
		line = strings.Map(func(r rune) rune {
			if 'a' <= r && r <= 'z' {
				return r - 'a' + 'A'
			}
			return r
		}, line)
	}
	for range times {
		fmt.Println(line)
	}
	precept.SetVar("conformance_greeting", line)
	precept.Info("greeted %s", name)
	return nil
}
