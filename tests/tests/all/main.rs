//! The runtime's tests with real plugins, in process: one binary for all of
//! them (`properties` has its own: it counts every panic of its process and
//! measures its resident memory).

#[path = "../common/mod.rs"]
mod common;

mod building;
mod containment;
mod dispatch;
mod hostile;
mod lazy;
mod lifecycle;
mod loading;
mod reference;
mod services;
mod synchronous;
mod timers;
