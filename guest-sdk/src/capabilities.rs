//! What the plugin was granted of the capabilities it declares with
//! [`capabilities!`](crate::capabilities!).
//!
//! A required capability that the user did not grant keeps the plugin from
//! loading, so a plugin only asks here about optional ones:
//!
//! ```ignore
//! precept_guest::capabilities! {
//!     dir("/notes", read_write, "where the notes are kept");
//!     env("EDITOR", "to open a note", optional);
//! }
//!
//! if !precept_guest::capabilities::env("EDITOR") {
//!     precept_guest::log::info("no EDITOR granted: printing the note instead");
//! }
//! ```

pub use crate::bindings::precept::plugin::capabilities::{Access, DirectoryGrant, Grant};

/// Everything the plugin was granted, in the order it declared it.
pub fn granted() -> Vec<Grant> {
    crate::bindings::precept::plugin::capabilities::granted()
}

/// How the directory the plugin opens at `path` was granted; `None` when
/// it was not.
pub fn dir(path: &str) -> Option<Access> {
    granted().into_iter().find_map(|grant| match grant {
        Grant::Directory(dir) if dir.path.trim_end_matches('/') == path.trim_end_matches('/') => {
            Some(dir.access)
        }
        _ => None,
    })
}

/// Whether the environment variable `name` was granted.
pub fn env(name: &str) -> bool {
    granted()
        .iter()
        .any(|grant| matches!(grant, Grant::Env(granted) if granted == name))
}

/// The plugin's own data directory, `/data`, when it declares one with
/// `data(...)` in [`capabilities!`](crate::capabilities!).
pub fn data_dir() -> Option<std::path::PathBuf> {
    let declared = granted()
        .into_iter()
        .any(|grant| matches!(grant, Grant::Directory(dir) if dir.path == "/data"));
    declared.then(|| std::path::PathBuf::from("/data"))
}

/// Whether the network host `host` (`host:port`) was granted.
pub fn net(host: &str) -> bool {
    granted()
        .iter()
        .any(|grant| matches!(grant, Grant::Net(granted) if granted == host))
}

/// Declares what the plugin needs, and why, in its manifest: readable
/// without running it, shown by `inspect`, checked against the user's
/// grants when it loads. Each line is one capability, required unless it
/// ends with `optional`:
///
/// ```ignore
/// precept_guest::capabilities! {
///     dir("/notes", read_write, "where the notes are kept");
///     dir("/templates", read, "note templates", optional);
///     env("EDITOR", "to open a note", optional);
///     net("api.example.com:443", "to sync the notes", optional);
///     data("the notes' index, kept between runs");
/// }
/// ```
///
/// `net` also takes `"host:*"` (any port of one host) and `"*"` (hosts the
/// user chooses); the user always grants a `host:port`. `data` asks for the
/// plugin's own directory, seen at `/data` and kept between runs: it is
/// given whenever declared, and no other plugin sees it.
#[macro_export]
macro_rules! capabilities {
    ($($kind:ident ( $($args:tt)* ));* $(;)?) => {
        $( $crate::__capability!($kind ( $($args)* )); )*
    };
}

/// One capability of [`capabilities!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __capability {
    (dir ($path:literal, $access:ident, $purpose:literal $(, $need:ident)?)) => {
        $crate::__manifest!(
            $crate::manifest::Piece::Raw("\n[[dir]]\npath = "),
            $crate::manifest::Piece::Quoted($path),
            $crate::manifest::Piece::Raw($crate::__access!($access)),
            $crate::manifest::Piece::Raw("\npurpose = "),
            $crate::manifest::Piece::Quoted($purpose),
            $crate::manifest::Piece::Raw($crate::__need!($($need)?)),
        );
    };
    (env ($name:literal, $purpose:literal $(, $need:ident)?)) => {
        $crate::__manifest!(
            $crate::manifest::Piece::Raw("\n[[env]]\nname = "),
            $crate::manifest::Piece::Quoted($name),
            $crate::manifest::Piece::Raw("\npurpose = "),
            $crate::manifest::Piece::Quoted($purpose),
            $crate::manifest::Piece::Raw($crate::__need!($($need)?)),
        );
    };
    (data ($purpose:literal)) => {
        $crate::__manifest!(
            $crate::manifest::Piece::Raw("\n[data]\npurpose = "),
            $crate::manifest::Piece::Quoted($purpose),
            $crate::manifest::Piece::Raw("\n"),
        );
    };
    (net ($host:literal, $purpose:literal $(, $need:ident)?)) => {
        $crate::__manifest!(
            $crate::manifest::Piece::Raw("\n[[net]]\nhost = "),
            $crate::manifest::Piece::Quoted($host),
            $crate::manifest::Piece::Raw("\npurpose = "),
            $crate::manifest::Piece::Quoted($purpose),
            $crate::manifest::Piece::Raw($crate::__need!($($need)?)),
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __access {
    (read) => {
        "\naccess = \"read\""
    };
    (read_write) => {
        "\naccess = \"read-write\""
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __need {
    () => {
        "\nrequired = true\n"
    };
    (required) => {
        "\nrequired = true\n"
    };
    (optional) => {
        "\nrequired = false\n"
    };
}
