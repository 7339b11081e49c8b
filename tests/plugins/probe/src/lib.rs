//! A plugin for tests, configured through application variables read in
//! `setup` (set them before loading it):
//!
//! - `probe.tag` (text): its name in the log, `probe` by default;
//! - `probe.subscribe` (list of text): events to subscribe to, the four CLI
//!   lifecycle events by default;
//! - `probe.stop` (list of text): events it stops;
//! - `probe.relay` (list of `from>to`): on `from`, dispatch `to` with the
//!   payload `{ from: <tag>, hops: <hops of from> + 1 }`;
//! - `probe.fail` (list of text): events it answers with an error;
//! - `probe.unsubscribe` (list of `on>name`): on `on`, unsubscribe from `name`;
//! - `probe.fail_setup` (text): fail `setup` with this message;
//! - `probe.set` (list of `name=value`): set these text variables in `setup`;
//! - `probe.read` (list of names): on every event, copy these variables to
//!   `tag.read.name`;
//! - `probe.quiet` (boolean): keep no `log`, for long runs.
//!
//! Every event it receives is appended to the variable `log` as
//! `tag:name:num` (unless quiet), and every payload entry is copied to the
//! variable `tag.name.key`.

use precept_guest::{Event, Flow, Plugin, Value, app, events};

#[derive(Default)]
struct Probe {
    tag: String,
    stop: Vec<String>,
    fail: Vec<String>,
    relay: Vec<(String, String)>,
    unsubscribe: Vec<(String, String)>,
    read: Vec<String>,
    quiet: bool,
}

fn pairs(var: &str) -> Vec<(String, String)> {
    app::get_var::<Vec<String>>(var)
        .unwrap_or_default()
        .iter()
        .filter_map(|pair| pair.split_once('>'))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

impl Plugin for Probe {
    fn setup(&mut self) -> Result<(), String> {
        if let Some(message) = app::get_var::<String>("probe.fail_setup") {
            return Err(message);
        }
        self.tag = app::get_var("probe.tag").unwrap_or_else(|| "probe".into());
        self.stop = app::get_var("probe.stop").unwrap_or_default();
        self.fail = app::get_var("probe.fail").unwrap_or_default();
        self.relay = pairs("probe.relay");
        self.unsubscribe = pairs("probe.unsubscribe");
        self.read = app::get_var("probe.read").unwrap_or_default();
        self.quiet = app::get_var("probe.quiet").unwrap_or(false);
        for entry in app::get_var::<Vec<String>>("probe.set").unwrap_or_default() {
            if let Some((name, value)) = entry.split_once('=') {
                app::set_var(name, value);
            }
        }
        let names: Vec<String> = app::get_var("probe.subscribe").unwrap_or_else(|| {
            [
                "before_cli_start",
                "cli_parsed",
                "cli_started",
                "cli_stopped",
            ]
            .map(String::from)
            .to_vec()
        });
        for name in &names {
            events::subscribe(name);
        }
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        if !self.quiet {
            let entry = format!("{}:{}:{}", self.tag, event.name, event.num);
            app::append_var("log", entry)?;
        }
        for (key, value) in &event.payload {
            app::set_var(&format!("{}.{}.{key}", self.tag, event.name), value.clone());
        }
        for name in &self.read {
            if let Some(value) = app::get_value(name) {
                app::set_var(&format!("{}.read.{name}", self.tag), value);
            }
        }
        for (from, to) in &self.relay {
            if *from == *event.name {
                let hops = event.get::<i64>("hops").unwrap_or(0) + 1;
                events::dispatch(
                    to,
                    [
                        ("from", Value::from(self.tag.as_str())),
                        ("hops", hops.into()),
                    ],
                );
            }
        }
        for (on, name) in &self.unsubscribe {
            if *on == *event.name {
                events::unsubscribe(name);
            }
        }
        if self.fail.contains(&event.name) {
            return Err(format!("{} refuses {}", self.tag, event.name));
        }
        if self.stop.contains(&event.name) {
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
    }
}

precept_guest::export!(Probe);
