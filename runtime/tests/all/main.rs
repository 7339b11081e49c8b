//! The runtime's integration tests: `precept-run` as a process, and the
//! library with real plugins. One binary for all of them; the tests that
//! run in every language have their own (`languages`).

mod common;

mod cli;
mod config;
mod data;
mod first_load;
mod lazy;
mod network;
mod process_containment;
mod trace;
mod trust;
mod watch;
