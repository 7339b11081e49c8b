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
//!     .cache_dir(precept::cache::default_dir())
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
mod app_info;
mod capabilities;
mod cli;
mod config;
mod engine;
mod error;
mod event;
mod events;
mod faults;
mod host;
mod lock;
mod manifest;
mod net;
mod output;
mod plugin;
mod profile;
mod progress;
mod requests;
mod sandbox;
mod service_states;
mod services;
mod signals;
mod status;
mod task;
mod value;
mod vars;
mod wit;

mod text;
mod timers;
mod trace;

pub mod cache;
pub mod data;
pub mod logging;
pub mod testing;

pub use app::Builtin;
pub use app::{App, CommandError, Context};
pub use async_trait::async_trait;
pub use capabilities::{
    Access, Capabilities, CapabilityError, DATA_PATH, DataCapability, DirCapability, EnvCapability,
    Granted, NetCapability,
};
pub use config::ConfigKey;
pub use engine::{CacheUse, Compiler, WINCH_FIRST_BYTES};
pub use error::{Error, FailureKind, LoadError, PluginFailure};
pub use events::{
    Event, Events, Flow, MAX_DELIVERIES_PER_DISPATCH, MAX_DISPATCH_DEPTH, MAX_DISPATCH_TIME,
    SubscriptionId,
};
pub use manifest::{Identity, MANIFEST_SECTION, Manifest};
pub use net::MAX_OPEN_REQUESTS;
pub use output::{MAX_CAPTURED_BYTES, PluginStdout};
pub use plugin::{Plugin, PluginOptions};
pub use profile::LoadProfile;
pub use requests::{MAX_DISPATCHES_PER_CALL, MAX_REQUESTS_PER_CALL, REQUEST_BYTES};
pub use sandbox::{
    DirGrant, Grants, HostBudget, LimitExceeded, Limits, MAX_MEMORIES, MAX_TABLES, Sandbox,
};
pub use service_states::ServiceStates;
pub use services::{Service, ServiceContext, ServiceError, ServiceFailure};
pub use status::ExitStatus;
pub use text::MAX_SHOWN_CHARS;
pub use timers::{MAX_TIMERS, MIN_INTERVAL};
pub use trace::{EventTrace, TraceFormat};
pub use value::{
    ENTRY_BYTES, FromScalar, FromValue, ITEM_BYTES, Payload, Scalar, VALUE_BYTES, Value, lookup,
    payload,
};
pub use vars::Vars;
pub use wit::ServiceStep;
pub use wit::{WORLD_VERSION, WORLD_VERSIONS};
