//! What a plugin says about itself without running: the custom sections
//! [`export!`](crate::export) and [`capabilities!`](crate::capabilities)
//! write into the component, built at compile time.
//!
//! `export!` writes the standard metadata sections (`version`,
//! `description`, `authors`, `licenses`, `homepage`, `source`) from the
//! plugin crate's `Cargo.toml`, and its package name into the
//! `precept-manifest` section; `capabilities!` adds what the plugin needs
//! there. The manifest is TOML in which every piece starts with a table
//! header (`[plugin]`, `[[dir]]`, `[[env]]`, `[[net]]`), so that the pieces
//! read the same in whatever order the linker puts them.

/// One piece of a section's text.
#[doc(hidden)]
pub enum Piece {
    /// Written as it is.
    Raw(&'static str),
    /// Written as a TOML basic string: quoted, escaped.
    Quoted(&'static str),
}

/// How many bytes `byte` takes inside a TOML basic string.
const fn escaped_len(byte: u8) -> usize {
    match byte {
        b'"' | b'\\' => 2,
        0..=0x1f | 0x7f => 6,
        _ => 1,
    }
}

/// The length of `pieces`, written.
#[doc(hidden)]
pub const fn len(pieces: &[Piece]) -> usize {
    let mut total = 0;
    let mut i = 0;
    while i < pieces.len() {
        match &pieces[i] {
            Piece::Raw(text) => total += text.len(),
            Piece::Quoted(text) => {
                let bytes = text.as_bytes();
                total += 2;
                let mut j = 0;
                while j < bytes.len() {
                    total += escaped_len(bytes[j]);
                    j += 1;
                }
            }
        }
        i += 1;
    }
    total
}

/// `pieces`, written; `N` is [`len`] of them.
#[doc(hidden)]
pub const fn encode<const N: usize>(pieces: &[Piece]) -> [u8; N] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; N];
    let mut at = 0;
    let mut i = 0;
    while i < pieces.len() {
        match &pieces[i] {
            Piece::Raw(text) => {
                let bytes = text.as_bytes();
                let mut j = 0;
                while j < bytes.len() {
                    out[at] = bytes[j];
                    at += 1;
                    j += 1;
                }
            }
            Piece::Quoted(text) => {
                let bytes = text.as_bytes();
                out[at] = b'"';
                at += 1;
                let mut j = 0;
                while j < bytes.len() {
                    let byte = bytes[j];
                    match escaped_len(byte) {
                        2 => {
                            out[at] = b'\\';
                            out[at + 1] = byte;
                        }
                        6 => {
                            let escape = [
                                b'\\',
                                b'u',
                                b'0',
                                b'0',
                                HEX[(byte >> 4) as usize],
                                HEX[(byte & 15) as usize],
                            ];
                            let mut k = 0;
                            while k < 6 {
                                out[at + k] = escape[k];
                                k += 1;
                            }
                        }
                        _ => out[at] = byte,
                    }
                    at += escaped_len(byte);
                    j += 1;
                }
                out[at] = b'"';
                at += 1;
            }
        }
        i += 1;
    }
    out
}

/// `text` as bytes, with `from` replaced by `to` (Cargo separates authors
/// with `:`, the `authors` section with `,`).
#[doc(hidden)]
pub const fn bytes<const N: usize>(text: &str, from: u8, to: u8) -> [u8; N] {
    let source = text.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = if source[i] == from { to } else { source[i] };
        i += 1;
    }
    out
}

/// Writes `$text` into the custom section `$section` of the plugin's
/// core module, on WebAssembly targets.
#[doc(hidden)]
#[macro_export]
macro_rules! __section {
    ($section:literal, $text:expr) => {
        $crate::__section!($section, $text, b'\0' => b'\0');
    };
    ($section:literal, $text:expr, $from:literal => $to:literal) => {
        const _: () = {
            const TEXT: &str = $text;
            #[cfg(target_family = "wasm")]
            #[used]
            #[unsafe(link_section = $section)]
            static SECTION: [u8; TEXT.len()] = $crate::manifest::bytes(TEXT, $from, $to);
        };
    };
}

/// Writes the plugin's identity from its crate's `Cargo.toml`.
#[doc(hidden)]
#[macro_export]
macro_rules! __identity {
    () => {
        $crate::__section!("version", env!("CARGO_PKG_VERSION"));
        $crate::__section!("description", env!("CARGO_PKG_DESCRIPTION"));
        $crate::__section!("authors", env!("CARGO_PKG_AUTHORS"), b':' => b',');
        $crate::__section!("licenses", env!("CARGO_PKG_LICENSE"));
        $crate::__section!("homepage", env!("CARGO_PKG_HOMEPAGE"));
        $crate::__section!("source", env!("CARGO_PKG_REPOSITORY"));
        $crate::__manifest!(
            $crate::manifest::Piece::Raw("\n[plugin]\nname = "),
            $crate::manifest::Piece::Quoted(env!("CARGO_PKG_NAME")),
            $crate::manifest::Piece::Raw("\n"),
        );
    };
}

/// Adds `$piece`s to the plugin's `precept-manifest` section.
#[doc(hidden)]
#[macro_export]
macro_rules! __manifest {
    ($($piece:expr),* $(,)?) => {
        const _: () = {
            const PIECES: &[$crate::manifest::Piece] = &[$($piece),*];
            #[cfg(target_family = "wasm")]
            #[used]
            #[unsafe(link_section = "precept-manifest")]
            static MANIFEST: [u8; $crate::manifest::len(PIECES)] = $crate::manifest::encode(PIECES);
        };
    };
}

/// Declares what the plugin's `setup` does, so that it may be loaded
/// lazily: the events it subscribes to and the commands it adds, in the
/// manifest's `[lazy]` table. Each line is one TOML key: `events`, a list
/// of names; `commands`, a list of inline tables with the fields of
/// [`Command`](crate::commands::Command) and its arguments (`name`,
/// `help`, `args`; for an argument `name`, `help`, `style` = `"flag"`,
/// `"count"`, `"option"` or `"positional"`, `kind` = `"text"`,
/// `"integer"`, `"float"` or `"boolean"`, `short`, `required`,
/// `repeated`, `default`).
///
/// ```ignore
/// precept_guest::lazy! {
///     events = ["cli_stopped"];
///     commands = [{ name = "greet", help = "Greet someone", args = [
///         { name = "name", help = "Who to greet", required = true },
///     ] }];
/// }
/// ```
///
/// The plugin is then loaded when one of those events is first dispatched
/// or one of those commands runs, not at start; its `setup` must do just
/// what it declares (the runtime checks), and may provide no service.
#[macro_export]
macro_rules! lazy {
    ($($key:ident = $value:tt);* $(;)?) => {
        $crate::__manifest!(
            $crate::manifest::Piece::Raw("\n[lazy]"),
            $($crate::manifest::Piece::Raw(
                concat!("\n", stringify!($key), " = ", stringify!($value))
            ),)*
            $crate::manifest::Piece::Raw("\n"),
        );
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_quoted_and_escaped_as_toml() {
        const PIECES: &[Piece] = &[Piece::Raw("a = "), Piece::Quoted("say \"hi\" \\ \n é")];
        const OUT: [u8; len(PIECES)] = encode(PIECES);
        assert_eq!(
            std::str::from_utf8(&OUT).unwrap(),
            "a = \"say \\\"hi\\\" \\\\ \\u000a é\""
        );
    }

    #[test]
    fn authors_are_separated_by_commas() {
        const TEXT: &str = "Ann <a@x>:Bob";
        let out: [u8; TEXT.len()] = bytes(TEXT, b':', b',');
        assert_eq!(&out, b"Ann <a@x>,Bob");
    }
}
