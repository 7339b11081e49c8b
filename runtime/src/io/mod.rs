//! What reaches the terminal, the log and the file system from the host:
//! plugin output through bounded pipes, log lines, plugin text made safe to
//! show, files written aside and renamed into place, notices of changed
//! files, signals, and plugin work on tasks of its own.

pub(crate) mod changes;
pub(crate) mod files;
pub(crate) mod in_flight;
pub(crate) mod logging;
pub(crate) mod output;
pub(crate) mod signals;
pub(crate) mod task;
pub(crate) mod text;
