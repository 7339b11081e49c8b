//! What the application and its plugins share, in precept's own types:
//! values and payloads, events, variables, command and configuration
//! descriptions, which services run, what plugins see of the application,
//! and the errors the runtime reports. The WIT versions convert what
//! plugins give to these at their boundary (`wit`); an event is lowered
//! into a plugin as it is.

pub(crate) mod app_info;
pub(crate) mod command_spec;
pub(crate) mod config;
pub(crate) mod error;
pub(crate) mod event;
pub(crate) mod service_states;
pub(crate) mod value;
pub(crate) mod vars;
