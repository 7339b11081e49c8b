//! `precept-build new NAME --lang LANGUAGE`: a ready plugin directory on
//! its language's SDK: the source, `plugin.toml` (or `Cargo.toml`) naming
//! the plugin, and a README with the commands that build and run it. What
//! it writes builds and runs as written: the plugin greets `cli_started`
//! with `NAME: hello from cli_started`.

use std::path::{Path, PathBuf};

use crate::{BuildError, Language};

/// The Rust SDK this `precept-build` was built from, for a Rust plugin's
/// `Cargo.toml` (the SDK is not on crates.io).
const RUST_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../guest-sdk");

/// Why a template was not written.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The name cannot name a plugin.
    #[error(
        "'{0}' is not a usable plugin name: lowercase letters, digits, '-' and '_', starting with a letter"
    )]
    BadName(String),
    /// The directory is already there.
    #[error("{0} already exists")]
    Exists(String),
    /// Writing failed.
    #[error(transparent)]
    Build(#[from] BuildError),
}

/// Writes the plugin `name` in `language` into `parent/name`; its path.
pub fn new_plugin(parent: &Path, name: &str, language: Language) -> Result<PathBuf, TemplateError> {
    let usable = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !usable {
        return Err(TemplateError::BadName(name.to_string()));
    }
    let dir = parent.join(name);
    if dir.exists() {
        return Err(TemplateError::Exists(dir.display().to_string()));
    }
    for (file, text) in files(name, language) {
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(BuildError::io(parent))?;
        }
        std::fs::write(&path, text).map_err(BuildError::io(&path))?;
    }
    Ok(dir)
}

/// The files of the template, as `(path, text)`.
fn files(name: &str, language: Language) -> Vec<(String, String)> {
    let fill = |text: &str| {
        text.replace("{name}", name)
            .replace("{package}", &name.replace('-', "_"))
            .replace("{sdk}", RUST_SDK)
    };
    let plugin_toml = fill(PLUGIN_TOML);
    let mut files = match language {
        Language::Rust => vec![
            ("Cargo.toml".into(), fill(RUST_CARGO)),
            ("src/lib.rs".into(), fill(RUST_LIB)),
        ],
        Language::C => vec![
            (format!("{name}.c"), fill(C_SOURCE)),
            ("plugin.toml".into(), plugin_toml),
        ],
        Language::Python => vec![
            ("app.py".into(), fill(PYTHON_APP)),
            ("plugin.toml".into(), plugin_toml),
        ],
        Language::JavaScript => vec![
            ("app.js".into(), fill(JAVASCRIPT_APP)),
            ("plugin.toml".into(), plugin_toml),
        ],
        Language::Go => vec![
            ("go.mod".into(), fill(GO_MOD)),
            ("plugin.go".into(), fill(GO_SOURCE)),
            ("plugin.toml".into(), plugin_toml),
        ],
    };
    files.push(("README.md".into(), fill(README)));
    files
}

const PLUGIN_TOML: &str = r#"# Who the plugin is and what it needs, written into its component by
# precept-build. Declare capabilities here: [[dir]], [[env]], [[net]], [data].
[plugin]
name = "{name}"
version = "0.1.0"
description = "Greets the start of every command"
"#;

const RUST_CARGO: &str = r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
description = "Greets the start of every command"

[lib]
crate-type = ["cdylib"]

[dependencies]
precept-guest = { path = "{sdk}" }

# A plugin is a crate of its own, not part of an enclosing workspace.
[workspace]
"#;

const RUST_LIB: &str = r#"//! The {name} plugin.

use precept_guest::prelude::*;

#[derive(Default)]
struct Greeter;

impl Plugin for Greeter {
    fn setup(&mut self) -> Result<(), String> {
        events::subscribe("cli_started");
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        println!("{name}: hello from {}", event.name);
        Ok(Flow::Continue)
    }
}

precept_guest::export!(Greeter);
"#;

const C_SOURCE: &str = r#"// The {name} plugin.

#include <stdio.h>

#include "precept.h"  // the C SDK, which precept-build compiles with the plugin

void on_setup(void) { precept_subscribe("cli_started"); }

bool on_event(const precept_event *event) {
  printf("{name}: hello from %s\n", event->name);
  return false;
}
"#;

const PYTHON_APP: &str = r#""""The {name} plugin."""

from precept_plugin import Plugin, events


class Greeter(Plugin):
    def setup(self):
        events.subscribe("cli_started")

    def on_event(self, event):
        print(f"{name}: hello from {event.name}")
"#;

const JAVASCRIPT_APP: &str = r#"// The {name} plugin.
import { events } from "./precept.js"; // the JavaScript SDK, put here by precept-build

export function setup() {
  events.subscribe("cli_started");
}

export function onEvent(event) {
  console.log(`{name}: hello from ${event.name}`);
}
"#;

const GO_MOD: &str = r#"module {name}

go 1.27.1
"#;

const GO_SOURCE: &str = r#"// Package {package} is the {name} plugin, on the Go SDK that
// precept-build compiles with it.
package {package}

import (
	"fmt"

	"precept.dev/sdk/precept"
)

func init() {
	precept.OnSetup(func() error {
		precept.Subscribe("cli_started")
		return nil
	})
	precept.OnEvent(func(event precept.Event) error {
		fmt.Printf("{name}: hello from %s\n", event.Name)
		return nil
	})
}
"#;

const README: &str = r#"# {name}

A precept plugin. From the directory that holds `{name}/`, build it into a
component and run it with a command (`dispatch greet`: any command starts
with `cli_started`):

```sh
precept-build {name} -o {name}.wasm
precept-run --plugin {name}.wasm dispatch greet
```

It prints `{name}: hello from cli_started`. `precept-run inspect
{name}.wasm` shows who it is and what it declares. How to write more:
docs/PLUGIN-AUTHORS.md in the precept repository.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_cannot_name_a_plugin_are_refused() {
        let dir = std::env::temp_dir();
        for bad in ["", "Hello", "../x", "a b", "9lives"] {
            assert!(matches!(
                new_plugin(&dir, bad, Language::Python),
                Err(TemplateError::BadName(_))
            ));
        }
    }

    #[test]
    fn every_language_gets_its_source_and_a_readme_naming_the_plugin() {
        let parent = std::env::temp_dir().join(format!("precept-template-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&parent);
        for language in Language::ALL {
            let dir = new_plugin(&parent.join(language.name()), "greeter", language).unwrap();
            assert_eq!(Language::detect(&dir), Some(language));
            let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
            assert!(
                readme.contains("precept-build greeter -o greeter.wasm"),
                "{readme}"
            );
            assert!(matches!(
                new_plugin(&parent.join(language.name()), "greeter", language),
                Err(TemplateError::Exists(_))
            ));
        }
        std::fs::remove_dir_all(&parent).unwrap();
    }
}
