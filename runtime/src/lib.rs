//! precept: extend a command-line application with sandboxed WebAssembly
//! component plugins, written in any language that targets the
//! `precept:plugin` world (see `wit/plugin.wit`).
//!
//! An [`App`] has commands, an event dispatcher ([`Events`]) and shared
//! variables ([`Vars`]). Plugins are loaded with [`App::load_plugin`]: each
//! gets its own wasmtime `Store` with its own WASI context, which grants
//! nothing but standard output and standard error. [`App::start`] runs
//! precept's CLI lifecycle: `before_cli_start`, parsing, `cli_parsed`, the
//! command together with `cli_started`, and `cli_stopped`.
//!
//! ```no_run
//! use precept::{App, Flow};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let mut app = App::new("my-app", "1.0.0")?;
//! app.events().subscribe("cli_started", |event| async move {
//!     println!("started {:?}", event.get::<String>("command"));
//!     Flow::Continue
//! });
//! app.load_plugin("hello.wasm").await?;
//! let status = app.start(["my-app"]).await;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod app;
mod cli;
mod engine;
mod error;
mod faults;
mod host;
mod launch;
mod lifecycle;

mod plugin;
mod services;
mod signals;
mod status;
mod task;
mod value;
mod vars;
mod wit;

pub mod cache;
pub mod config;
pub mod events;
pub mod logging;
pub mod output;
pub mod sandbox;
pub mod text;

pub use app::{App, CommandError, Context};
pub use async_trait::async_trait;
pub use error::{Error, FailureKind, LoadError, PluginFailure};
pub use events::{
    Event, Events, Flow, MAX_DELIVERIES_PER_DISPATCH, MAX_DISPATCH_DEPTH, MAX_DISPATCH_TIME,
    SubscriptionId,
};
pub use host::ConfigKey;
pub use host::{MAX_DISPATCHES_PER_CALL, MAX_REQUESTS_PER_CALL};
pub use launch::Builtin;
pub use plugin::{Plugin, PluginOptions, ServiceStep};
pub use sandbox::{
    DirGrant, Grants, HostBudget, LimitExceeded, Limits, MAX_MEMORIES, MAX_TABLES, Sandbox,
};
pub use services::{Service, ServiceContext, ServiceError, ServiceFailure};
pub use status::ExitStatus;
pub use value::{FromScalar, FromValue, Payload, Scalar, Value, lookup, payload};
pub use vars::Vars;
pub use wit::WORLD_VERSION;
