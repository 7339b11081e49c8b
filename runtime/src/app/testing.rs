//! Testing a plugin from a Rust test suite, whatever language it is
//! written in: load its component, dispatch events, and read what it
//! printed and logged, what it dispatched, the variables it set and how it
//! failed.
//!
//! ```no_run
//! use precept::testing::Harness;
//!
//! # async fn test() -> Result<(), Box<dyn std::error::Error>> {
//! let mut harness = Harness::new()?;
//! let pongs = harness.watch("pong");
//! harness.load("target/plugins/ping.wasm").await?;
//! harness.dispatch("ping", precept::payload([("n", 1i64)])).await;
//! assert_eq!(harness.printed(), "ping 1\n");
//! assert_eq!(harness.logged()[0].message, "pinged");
//! assert_eq!(pongs.events().len(), 1);
//! assert!(harness.failures().is_empty());
//! # Ok(()) }
//! ```

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::app::App;
use crate::io::logging::LogMessage;
use crate::model::config::PluginOptions;
use crate::model::error::{Error, LoadError, PluginFailure};
use crate::model::event::Flow;
use crate::model::value::Payload;
use crate::model::vars::Vars;
use crate::plugin::Plugin;

/// An application for tests: plugin output kept in memory, nothing read
/// from the user's files, no signal handling.
pub struct Harness {
    app: App,
}

impl Harness {
    /// An empty application named `test`.
    pub fn new() -> Result<Harness, Error> {
        let mut app = App::new("test", "0.0.0")?;
        app.catch_signals(false);
        app.plugin_stdout().capture();
        app.plugin_log().capture();
        Ok(Harness { app })
    }

    /// Loads the component at `path` with no grants and runs its `setup`.
    pub async fn load(&mut self, path: impl AsRef<Path>) -> Result<Arc<Plugin>, LoadError> {
        self.app.load_plugin(path).await
    }

    /// Loads the component at `path` with `options` (grants, limits,
    /// configuration values).
    pub async fn load_with(
        &mut self,
        path: impl AsRef<Path>,
        options: &PluginOptions,
    ) -> Result<Arc<Plugin>, LoadError> {
        self.app.load_plugin_with(path, options).await
    }

    /// Dispatches `name` with `payload` and waits until every subscriber,
    /// and everything it dispatched in turn, is done.
    pub async fn dispatch(&mut self, name: &str, payload: Payload) {
        let events = self.app.events().clone();
        events.dispatch(name, payload).await;
    }

    /// Records every event named `name` from now on, as delivered after the
    /// subscribers already there.
    pub fn watch(&self, name: &str) -> Watched {
        let watched = Watched::default();
        let seen = watched.0.clone();
        self.app.events().subscribe(name, move |event| {
            seen.lock().unwrap().push(event.payload.as_ref().clone());
            async { Flow::Continue }
        });
        watched
    }

    /// What the plugins printed to standard output since the last call.
    pub fn printed(&self) -> String {
        let bytes = self.app.plugin_stdout().take_captured();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// What the plugins logged since the last call, at every level.
    pub fn logged(&self) -> Vec<LogMessage> {
        self.app.plugin_log().take_captured()
    }

    /// The application's variables.
    pub fn vars(&self) -> &Vars {
        self.app.vars()
    }

    /// Every failure so far: the plugin, the export, the event and why.
    pub fn failures(&self) -> Vec<PluginFailure> {
        self.app.events().failures()
    }

    /// The application, e.g. to add a command or run the CLI lifecycle
    /// (`app().start(["test", "COMMAND", ...])`).
    pub fn app(&mut self) -> &mut App {
        &mut self.app
    }
}

/// The payloads of the events a [`Harness::watch`] records.
#[derive(Debug, Clone, Default)]
pub struct Watched(Arc<Mutex<Vec<Payload>>>);

impl Watched {
    /// The payloads seen so far, in order.
    pub fn events(&self) -> Vec<Payload> {
        self.0.lock().unwrap().clone()
    }
}
