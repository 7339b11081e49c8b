//! `check SCRIPT`: tests a plugin, in any language, against a script of
//! events and what should follow each: what it printed and logged, the
//! variables, how many failures. One line per step; the command fails when
//! a step does.
//!
//! ```toml
//! plugin = "greeter.wasm"           # beside the script
//! setup_printed = "greeter: ready\n" # optional: what its setup printed
//! setup_logged = ["ready"]          # optional: what its setup logged
//! config = { greeting = "Howdy" }   # optional: its configuration values
//!
//! [[step]]
//! dispatch = "greet"
//! payload = { name = "Ada" }
//! printed = "Howdy, Ada!\n"         # optional, exact
//! logged = ["greeted Ada"]          # optional: the messages, in order
//! vars = { greeted = 1 }            # optional, each compared
//! failures = 0                      # optional, failures so far
//! ```

use std::path::PathBuf;

use clap::{Arg, Command};
use serde::Deserialize;

use crate::app::{App, CommandError, Context};
use crate::io::text::clean;
use crate::model::config::{PluginOptions, from_toml};
use crate::model::value::{Payload, Value};

/// A check script.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Script {
    plugin: PathBuf,
    setup_printed: Option<String>,
    setup_logged: Option<Vec<String>>,
    #[serde(default)]
    config: toml::Table,
    #[serde(default)]
    step: Vec<Step>,
}

/// One step: an event, and what should follow it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    dispatch: String,
    #[serde(default)]
    payload: toml::Table,
    printed: Option<String>,
    logged: Option<Vec<String>>,
    #[serde(default)]
    vars: toml::Table,
    failures: Option<usize>,
}

pub(super) fn check_command() -> Command {
    Command::new("check")
        .about("Test a plugin against a script of events and what should follow each")
        .arg(
            Arg::new("script")
                .required(true)
                .value_parser(clap::value_parser!(PathBuf))
                .help("The script (TOML): the plugin, then [[step]]s"),
        )
}

pub(super) async fn check(ctx: Context) -> Result<(), CommandError> {
    let path = ctx.matches.get_one::<PathBuf>("script").expect("required");
    let text = crate::io::files::read_text(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let script: Script = toml::from_str(&text)
        .map_err(|e| format!("{}: {}", path.display(), clean(e.message(), 200)))?;
    let base = path.parent().unwrap_or(std::path::Path::new("."));

    // An application of its own, as `precept::testing::Harness` makes one;
    // compiled components are kept as a run of precept-run keeps them.
    let mut app = App::new("precept-check", env!("CARGO_PKG_VERSION"))?;
    app.catch_signals(false);
    app.cache_dir(crate::compile::cache::default_dir());
    app.plugin_stdout().capture();
    app.plugin_log().capture();
    let options = PluginOptions {
        config: payload(&script.config),
        ..PluginOptions::default()
    };
    let plugin = base.join(&script.plugin);
    app.load_plugin_with(plugin, &options).await?;
    let events = app.events().clone();
    let (stdout, vars) = (app.plugin_stdout().clone(), app.vars().clone());
    let printed = || String::from_utf8_lossy(&stdout.take_captured()).into_owned();
    let log = app.plugin_log();
    let logged = || -> Vec<String> {
        let messages = log.take_captured();
        messages.into_iter().map(|m| m.message).collect()
    };

    let mut lines = Vec::new();
    let mut failed = 0;
    let (at_setup, logged_at_setup) = (printed(), logged());
    if script.setup_printed.is_some() || script.setup_logged.is_some() {
        let mut wrong = Vec::new();
        if let Some(expected) = &script.setup_printed
            && at_setup != *expected
        {
            wrong.push(differs("printed", &at_setup, expected));
        }
        if let Some(expected) = &script.setup_logged
            && logged_at_setup != *expected
        {
            wrong.push(differs_lines("logged", &logged_at_setup, expected));
        }
        failed += usize::from(!wrong.is_empty());
        lines.push(outcome("setup", wrong));
    }
    for (i, step) in script.step.iter().enumerate() {
        events
            .dispatch(&step.dispatch, payload(&step.payload))
            .await;
        let mut wrong = Vec::new();
        let got = printed();
        if let Some(expected) = &step.printed
            && got != *expected
        {
            wrong.push(differs("printed", &got, expected));
        }
        let got = logged();
        if let Some(expected) = &step.logged
            && got != *expected
        {
            wrong.push(differs_lines("logged", &got, expected));
        }
        for (name, expected) in &step.vars {
            let expected = from_toml(expected);
            let got = vars.get(name).unwrap_or(Value::Absent);
            if got != expected {
                let got =
                    crate::io::text::clean(&format!("{got:?}"), crate::io::text::MAX_SHOWN_CHARS);
                wrong.push(format!("variable {name} is {got}, expected {expected:?}"));
            }
        }
        let failures = events.failures();
        if let Some(expected) = step.failures
            && failures.len() != expected
        {
            let last = failures
                .last()
                .map(|f| format!(" (last: {f})"))
                .unwrap_or_default();
            wrong.push(format!(
                "{} failures, expected {expected}{last}",
                failures.len()
            ));
        }
        failed += usize::from(!wrong.is_empty());
        let what = format!("step {}: dispatch {}", i + 1, clean(&step.dispatch, 100));
        lines.push(outcome(&what, wrong));
    }
    crate::io::output::print(lines.join("").as_bytes());
    match failed {
        0 => Ok(()),
        n => Err(format!("{n} of {} checks failed", lines.len()).into()),
    }
}

fn payload(table: &toml::Table) -> Payload {
    table
        .iter()
        .map(|(k, v)| (k.clone(), from_toml(v)))
        .collect()
}

fn differs(what: &str, got: &str, expected: &str) -> String {
    format!(
        "{what} \"{}\", expected \"{}\"",
        clean(got, 300),
        clean(expected, 300)
    )
}

fn differs_lines(what: &str, got: &[String], expected: &[String]) -> String {
    let quoted = |lines: &[String]| {
        let quoted: Vec<String> = lines
            .iter()
            .map(|l| format!("\"{}\"", clean(l, 100)))
            .collect();
        format!("[{}]", clean(&quoted.join(", "), 300))
    };
    format!("{what} {}, expected {}", quoted(got), quoted(expected))
}

fn outcome(what: &str, wrong: Vec<String>) -> String {
    if wrong.is_empty() {
        format!("ok    {what}\n")
    } else {
        format!("FAIL  {what}: {}\n", wrong.join("; "))
    }
}
