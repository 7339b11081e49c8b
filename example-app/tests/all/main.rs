//! The example application's tests: `countdown` as a process, and its
//! library with a plugin in process.

mod countdown;
mod order;
