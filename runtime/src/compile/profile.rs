//! The start-up profile (`--profile-startup`): for each plugin loaded, how
//! long reading its file, preparing its compiled code (mapped from the
//! compile cache, or compiled), instantiating it and its `setup` took, and
//! what loading them all cost of the whole start.

use std::fmt::Write as _;
use std::time::Duration;

use crate::compile::engine::{CacheUse, Compiler};

/// How one plugin's load went, step by step.
#[derive(Debug, Clone)]
pub struct LoadProfile {
    /// The plugin's name.
    pub plugin: String,
    /// Mapping and hashing its file, reading its manifest.
    pub read: Duration,
    /// Where its compiled code came from.
    pub cache: CacheUse,
    /// Which compiler made that code (Winch on a large component's first
    /// load, see [`App::compiler`](crate::App::compiler)).
    pub compiler: Compiler,
    /// Mapping its compiled code from the cache, or compiling it.
    pub prepare: Duration,
    /// Instantiating it in its store.
    pub instantiate: Duration,
    /// Its `setup` call, and adding what it contributed.
    pub setup: Duration,
}

impl LoadProfile {
    /// The whole load.
    pub fn total(&self) -> Duration {
        self.read + self.prepare + self.instantiate + self.setup
    }
}

/// The profile as a table: one line per plugin, the slowest named, and
/// the loading against `start` (the application's start so far: from its
/// making to its plugins loaded).
pub(crate) fn report(profiles: &[LoadProfile], start: Duration) -> String {
    let mut text = String::from("start-up profile\n");
    let width = profiles
        .iter()
        .map(|p| p.plugin.chars().count())
        .chain([6])
        .max()
        .unwrap_or(6)
        .min(40);
    let _ = writeln!(
        text,
        "  {:width$}  {:>9}  {:>5}  {:>9}  {:>9}  {:>11}  {:>9}  {:>9}",
        "plugin", "read", "cache", "code", "prepare", "instantiate", "setup", "total"
    );
    for p in profiles {
        let cache = match p.cache {
            CacheUse::Hit => "hit",
            CacheUse::Miss => "miss",
            CacheUse::Off => "off",
        };
        let code = p.compiler.name();
        let _ = writeln!(
            text,
            "  {:width$}  {:>9}  {cache:>5}  {code:>9}  {:>9}  {:>11}  {:>9}  {:>9}",
            crate::io::text::clean(&p.plugin, width),
            ms(p.read),
            ms(p.prepare),
            ms(p.instantiate),
            ms(p.setup),
            ms(p.total()),
        );
    }
    let loading: Duration = profiles.iter().map(LoadProfile::total).sum();
    if let Some(slowest) = profiles.iter().max_by_key(|p| p.total()) {
        let _ = writeln!(
            text,
            "  slowest: {} ({})",
            crate::io::text::clean(&slowest.plugin, 100),
            ms(slowest.total())
        );
    }
    let _ = writeln!(
        text,
        "  {} plugin(s) loaded in {} of the {} start so far ({} without them)",
        profiles.len(),
        ms(loading),
        ms(start),
        ms(start.saturating_sub(loading)),
    );
    text
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(plugin: &str, ms: u64, cache: CacheUse) -> LoadProfile {
        let d = Duration::from_millis(ms);
        LoadProfile {
            plugin: plugin.into(),
            read: d,
            cache,
            compiler: Compiler::Cranelift,
            prepare: d,
            instantiate: d,
            setup: d,
        }
    }

    #[test]
    fn the_report_lists_every_plugin_and_names_the_slowest() {
        let profiles = [
            profile("fast", 1, CacheUse::Hit),
            profile("slow", 5, CacheUse::Miss),
        ];
        let report = report(&profiles, Duration::from_millis(30));
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(lines.len(), 6, "{report}");
        assert!(
            lines[2].contains("fast") && lines[2].contains("hit"),
            "{report}"
        );
        assert!(
            lines[3].contains("slow") && lines[3].contains("miss"),
            "{report}"
        );
        assert!(lines[3].ends_with("20.00 ms"), "{report}");
        assert_eq!(lines[4], "  slowest: slow (20.00 ms)");
        assert_eq!(
            lines[5],
            "  2 plugin(s) loaded in 24.00 ms of the 30.00 ms start so far (6.00 ms without them)"
        );
    }
}
