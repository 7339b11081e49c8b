//! Turning a component file into code that runs: the wasmtime engines and
//! the linker, the compiled components kept in memory and on disk, the
//! hashes remembered by file identity, the spinner while a large one
//! compiles, and the start-up profile.

pub(crate) mod cache;
pub(crate) mod engine;
pub(crate) mod profile;
pub(crate) mod progress;
pub(crate) mod seen;

pub use cache::default_dir as default_cache_dir;
pub use engine::{CacheUse, Compiler, WINCH_FIRST_BYTES};
