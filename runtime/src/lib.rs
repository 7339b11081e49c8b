//! precept: extend a command-line application with sandboxed WebAssembly
//! component plugins, written in any language that targets the
//! `precept:plugin` world (see `wit/`: one directory per version).
//!
//! An [`App`] has commands, an event dispatcher ([`Events`]), shared
//! variables ([`Vars`]) and services, and gets precept's global options, a
//! configuration file, plugins and their grants, each by one call. Each
//! plugin gets its own wasmtime `Store` with its own WASI context, which
//! grants nothing but standard output and standard error unless the
//! configuration or the command line grants more. [`App::start`] loads the
//! plugins and runs precept's CLI lifecycle: `before_cli_start`, parsing,
//! `cli_parsed`, the services, the command together with `cli_started`, and
//! `cli_stopped`.
//!
//! ```no_run
//! use precept::{App, Flow};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let mut app = App::new("my-app", "1.0.0")?;
//! app.about("What my app does")
//!     .cache_dir(precept::compile::default_cache_dir())
//!     .config_file("my-app.toml")?
//!     .plugin_flags()?
//!     .command(clap::Command::new("run"), |ctx| async move {
//!         ctx.events.dispatch("work", precept::payload([("n", 42i64)])).await;
//!         Ok(())
//!     })?;
//! app.events().subscribe("work", |event| async move {
//!     println!("work {:?}", event.get::<i64>("n"));
//!     Flow::Continue
//! });
//! let status = app.start(std::env::args_os()).await;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod app;
pub mod compile;
mod events;
mod host;
mod io;
mod model;
mod plugin;
pub mod services;
pub mod trust;
pub mod wit;

pub use app::status::ExitStatus;
pub use app::testing;
pub use app::{App, Builtin, CommandError, Context};
pub use async_trait::async_trait;
pub use events::{Event, Events, Flow, SubscriptionId};
pub use model::config::ConfigKey;
pub use model::error::{Error, FailureKind, LoadError, PluginFailure};
pub use model::value::{Payload, Scalar, Value, payload};
pub use model::vars::Vars;
pub use plugin::{Plugin, PluginId, PluginOptions};
pub use services::Service;
pub use trust::sandbox::{Limits, Sandbox};

/// Payload values: precept's own types, shared by native code and plugins
/// of every WIT version, and reading them typed.
pub mod value {
    pub use crate::model::value::{FromScalar, FromValue, Payload, Scalar, Value, lookup, payload};
}

/// Every bound the runtime holds plugins to, and the error a plugin gets
/// past one.
pub mod limits {
    pub use crate::events::{MAX_DELIVERIES_PER_DISPATCH, MAX_DISPATCH_DEPTH, MAX_DISPATCH_TIME};
    pub use crate::host::requests::{
        MAX_DISPATCHES_PER_CALL, MAX_REQUESTS_PER_CALL, REQUEST_BYTES,
    };
    pub use crate::host::timers::{MAX_TIMERS, MIN_INTERVAL};
    pub use crate::io::output::MAX_CAPTURED_BYTES;
    pub use crate::io::text::MAX_SHOWN_CHARS;
    pub use crate::model::value::{ENTRY_BYTES, ITEM_BYTES, VALUE_BYTES};
    pub use crate::trust::net::MAX_OPEN_REQUESTS;
    pub use crate::trust::sandbox::{
        HostBudget, LimitExceeded, MAX_MEMORIES, MAX_RANDOM_BYTES, MAX_TABLES,
    };
}

/// What the runtime and its plugins say: the log (`-v`, `--quiet`,
/// `--log-file`), plugins' standard output, the event trace and the
/// start-up profile.
pub mod logging {
    pub use crate::compile::profile::LoadProfile;
    pub use crate::events::trace::{EventTrace, TraceFormat};
    pub use crate::io::logging::*;
    pub use crate::io::output::PluginStdout;
}
