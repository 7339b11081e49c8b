//! The example applications' tests: `countdown` and `lines` as processes,
//! and `countdown`'s library with a plugin in process.

mod countdown;
mod lines;
mod order;
