//! Plugin text made safe to show: whatever a plugin sends (an error
//! message, a log line, a help text, an event name) becomes one line with
//! its control characters escaped and its length capped, so it can neither
//! forge another line nor send escape codes to a terminal.

use std::fmt;

/// The longest plugin text shown in an error line or a log line, in
/// characters; longer text is cut and ends with `…`.
pub const MAX_SHOWN_CHARS: usize = 1000;

/// `text` as one safe line of at most `max` characters (plus `…` when cut).
pub fn clean(text: &str, max: usize) -> String {
    Clean::capped(text, max).to_string()
}

/// Displays plugin text as one safe line; see [`clean`].
#[derive(Debug, Clone, Copy)]
pub struct Clean<'a> {
    text: &'a str,
    max: usize,
}

impl<'a> Clean<'a> {
    /// `text`, cut at [`MAX_SHOWN_CHARS`].
    pub fn new(text: &'a str) -> Self {
        Self::capped(text, MAX_SHOWN_CHARS)
    }

    /// `text`, cut at `max` characters.
    pub fn capped(text: &'a str, max: usize) -> Self {
        Clean { text, max }
    }
}

impl fmt::Display for Clean<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (shown, c) in self.text.chars().enumerate() {
            if shown == self.max {
                return f.write_str("…");
            }
            match c {
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                c if needs_escape(c) => write!(f, "\\u{{{:x}}}", c as u32)?,
                c => fmt::Write::write_char(f, c)?,
            }
        }
        Ok(())
    }
}

/// Control characters (C0, DEL, C1), and the Unicode controls that reorder
/// or hide text on a terminal (bidirectional overrides and isolates, line
/// and paragraph separators).
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newlines_and_escape_codes_cannot_forge_lines() {
        let forged = "ok\nerror: plugin 'other' trapped\x1b[2J\u{202e}";
        assert_eq!(
            clean(forged, 100),
            "ok\\nerror: plugin 'other' trapped\\u{1b}[2J\\u{202e}"
        );
    }

    #[test]
    fn long_text_is_cut() {
        assert_eq!(clean("abcdef", 3), "abc…");
        assert_eq!(clean("abc", 3), "abc");
        assert_eq!(clean("héllo wörld", 5), "héllo…");
    }
}
