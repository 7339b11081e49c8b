//! The configuration file (TOML): which plugins to load, what each is
//! granted, its limits and fault policy, and its own configuration values.
//!
//! ```toml
//! plugins = ["plugins/greet.wasm"]   # relative to this file
//! plugin-dir = "plugins"             # every component in it
//! fail-fast = false
//!
//! [limits]                           # for every plugin
//! deadline-ms = 1000
//! memory-mib = 256
//!
//! [plugin.greet]
//! dirs = [{ host = "/srv/data", guest = "/data", writable = false }]
//! env = { MODE = "fast" }
//! args = ["--quick"]
//! fail-fast = true                   # this plugin's failures end the run
//! limits = { deadline-ms = 200 }
//!
//! [plugin.greet.config]              # read by the plugin
//! greeting = "Hi"
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::value::{Payload, Scalar, Value};
use crate::trust::sandbox::{DirGrant, Limits, Sandbox};

/// How to load one plugin: its sandbox, its configuration values, and
/// whether its failures end the run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PluginOptions {
    /// What it is granted and how far it may go.
    pub sandbox: Sandbox,
    /// Its configuration values, read through the `config` interface.
    pub config: Payload,
    /// Where the values come from, e.g. `precept.toml`, for error messages.
    pub config_source: Option<String>,
    /// Whether a failure of this plugin ends the run (as with fail-fast).
    pub fatal: bool,
}

impl From<Sandbox> for PluginOptions {
    fn from(sandbox: Sandbox) -> Self {
        PluginOptions {
            sandbox,
            ..PluginOptions::default()
        }
    }
}

/// A configuration key a plugin declared.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigKey {
    /// The key, as in the plugin's `[plugin.NAME.config]` section.
    pub key: String,
    /// One line of help.
    pub help: String,
    /// The value used when the file has none.
    pub default: Value,
}

/// The whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Components to load, in order.
    #[serde(default)]
    pub plugins: Vec<PathBuf>,
    /// A directory whose components (`*.wasm`) are all loaded, by name.
    #[serde(default)]
    pub plugin_dir: Option<PathBuf>,
    /// Whether any plugin failure ends the run.
    #[serde(default)]
    pub fail_fast: bool,
    /// Limits for every plugin.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Per-plugin sections, by plugin name.
    #[serde(default)]
    pub plugin: BTreeMap<String, PluginConfig>,
}

/// Limits as written in the file; unset ones keep their defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LimitsConfig {
    /// The most running time a setup, event or service call may use, in
    /// milliseconds.
    #[serde(default, deserialize_with = "positive_ms")]
    pub deadline_ms: Option<u64>,
    /// The longest a command may run, in milliseconds.
    #[serde(default, deserialize_with = "positive_ms")]
    pub command_deadline_ms: Option<u64>,
    /// The longest a call may take by the clock, waiting included, in
    /// milliseconds.
    #[serde(default, deserialize_with = "positive_ms")]
    pub wait_ms: Option<u64>,
    /// The most memory a plugin may use, in MiB.
    #[serde(default, deserialize_with = "memory_mib")]
    pub memory_mib: Option<usize>,
    /// How many failures disable a plugin.
    #[serde(default, deserialize_with = "positive_count")]
    pub max_errors: Option<u32>,
}

/// The most memory a limit may name, in MiB (1 TiB).
pub const MAX_MEMORY_MIB: usize = 1 << 20;

/// The longest time a limit may name, in milliseconds (a day).
pub const MAX_MS: u64 = 24 * 60 * 60 * 1000;

fn in_range<'de, D, T>(deserializer: D, low: T, high: T, unit: &str) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + PartialOrd + std::fmt::Display + Copy,
{
    let value = T::deserialize(deserializer)?;
    if value < low || value > high {
        return Err(serde::de::Error::custom(format!(
            "expected {low} to {high} {unit}, found {value}"
        )));
    }
    Ok(Some(value))
}

fn positive_ms<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    in_range(d, 1, MAX_MS, "milliseconds")
}

fn memory_mib<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    in_range(d, 1, MAX_MEMORY_MIB, "MiB")
}

fn positive_count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    in_range(d, 1, u32::MAX, "failures")
}

/// One plugin's section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PluginConfig {
    /// Directories granted to it.
    #[serde(default)]
    pub dirs: Vec<DirConfig>,
    /// Environment variables it sees.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Its command-line arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Network hosts granted to it, as `host:port`.
    #[serde(default)]
    pub net: Vec<String>,
    /// Whether its failures end the run.
    #[serde(default)]
    pub fail_fast: bool,
    /// Its limits, over the common ones.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Its own configuration values.
    #[serde(default)]
    pub config: toml::Table,
}

/// A directory grant as written in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DirConfig {
    /// The directory on the host.
    pub host: PathBuf,
    /// Where the plugin sees it; the host path by default.
    #[serde(default)]
    pub guest: Option<String>,
    /// Whether the plugin may write there.
    #[serde(default)]
    pub writable: bool,
}

/// A configuration file that cannot be used, in one line: file, line, key
/// and what was expected.
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {message}", Line(.line))]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// The line of the problem, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

struct Line<'a>(&'a Option<usize>);

impl std::fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(line) => write!(f, ":{line}"),
            None => Ok(()),
        }
    }
}

impl Config {
    /// Reads `path`; relative paths in it are taken from its directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = crate::io::files::read_text(path).map_err(|e| ConfigError {
            file: file.clone(),
            line: None,
            message: e.to_string(),
        })?;
        let mut config = Config::parse(&text).map_err(|(line, message)| ConfigError {
            file,
            line,
            message,
        })?;
        config.resolve(path.parent().unwrap_or(Path::new(".")));
        Ok(config)
    }

    /// Parses configuration text; an error comes with its line.
    pub fn parse(text: &str) -> Result<Config, (Option<usize>, String)> {
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|span| text[..span.start].matches('\n').count() + 1);
            let key = e.span().and_then(|span| key_at(text, span.start));
            let message = e.message().trim().to_string();
            let message = match key {
                Some(key) if !message.contains(&format!("`{key}`")) => format!("{key}: {message}"),
                _ => message,
            };
            (line, message)
        })
    }

    fn resolve(&mut self, base: &Path) {
        let absolute = |path: &mut PathBuf| {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        };
        self.plugins.iter_mut().for_each(absolute);
        if let Some(dir) = &mut self.plugin_dir {
            absolute(dir);
        }
        for section in self.plugin.values_mut() {
            for dir in &mut section.dirs {
                absolute(&mut dir.host);
            }
        }
    }

    /// The components to load: `plugins`, then those in `plugin-dir`.
    pub fn plugin_paths(&self) -> std::io::Result<Vec<PathBuf>> {
        let mut paths = self.plugins.clone();
        if let Some(dir) = &self.plugin_dir {
            paths.extend(components_in(dir)?);
        }
        Ok(paths)
    }

    /// The options of the plugin `name`: `base` (what the application's
    /// code gave), with the common limits over it, then its section's
    /// limits, grants, values and fault policy.
    pub fn plugin_options(&self, name: &str, source: &str, base: PluginOptions) -> PluginOptions {
        let mut options = base;
        let sandbox = &mut options.sandbox;
        sandbox.limits = self.limits.apply(sandbox.limits.clone());
        options.fatal |= self.fail_fast;
        options.config_source = Some(source.to_string());
        if let Some(section) = self.plugin.get(name) {
            sandbox.limits = section.limits.apply(sandbox.limits.clone());
            let grants = &mut sandbox.grants;
            grants
                .dirs
                .extend(section.dirs.iter().map(DirConfig::grant));
            grants.env.extend(section.env.clone());
            grants.args.extend(section.args.iter().cloned());
            grants.net.extend(section.net.iter().cloned());
            options.fatal |= section.fail_fast;
            for (key, value) in &section.config {
                options.config.retain(|(k, _)| k != key);
                options.config.push((key.clone(), from_toml(value)));
            }
        }
        options
    }
}

impl LimitsConfig {
    /// `limits` with the values set here.
    pub fn apply(&self, mut limits: Limits) -> Limits {
        if let Some(ms) = self.deadline_ms {
            limits.call = Duration::from_millis(ms);
        }
        if let Some(ms) = self.command_deadline_ms {
            limits.command = Some(Duration::from_millis(ms));
        }
        if let Some(ms) = self.wait_ms {
            limits.wait = Duration::from_millis(ms);
        }
        if let Some(mib) = self.memory_mib {
            limits.memory_bytes = mib.min(MAX_MEMORY_MIB) << 20;
        }
        if let Some(max) = self.max_errors {
            limits.max_errors = Some(max);
        }
        limits
    }
}

impl DirConfig {
    fn grant(&self) -> DirGrant {
        DirGrant {
            host: self.host.clone(),
            guest: self
                .guest
                .clone()
                .unwrap_or_else(|| self.host.display().to_string()),
            writable: self.writable,
        }
    }
}

/// The components (`*.wasm`) in `dir`, sorted.
pub fn components_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// The key written on the line around byte `at`, if any.
fn key_at(text: &str, at: usize) -> Option<String> {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty() && !key.starts_with('[')).then(|| key.to_string())
}

/// A TOML value as a payload value: scalars as themselves, arrays of
/// scalars as lists, anything else as JSON.
pub fn from_toml(value: &toml::Value) -> Value {
    let scalar = |value: &toml::Value| match value {
        toml::Value::String(s) => Some(Scalar::Text(s.clone())),
        toml::Value::Integer(i) => Some(Scalar::Integer(*i)),
        toml::Value::Float(f) => Some(Scalar::Float(*f)),
        toml::Value::Boolean(b) => Some(Scalar::Boolean(*b)),
        toml::Value::Datetime(d) => Some(Scalar::Text(d.to_string())),
        _ => None,
    };
    match value {
        toml::Value::Array(items) => match items.iter().map(scalar).collect() {
            Some(items) => Value::List(items),
            None => Value::Json(serde_json::to_string(value).unwrap_or_default()),
        },
        toml::Value::Table(_) => Value::Json(serde_json::to_string(value).unwrap_or_default()),
        scalar_value => scalar(scalar_value).map_or(Value::Absent, Value::from),
    }
}

/// A payload value as TOML; `None` for `absent` (TOML has no null).
pub fn to_toml(value: &Value) -> Option<toml::Value> {
    let scalar = |scalar: &Scalar| match scalar {
        Scalar::Absent => None,
        Scalar::Boolean(b) => Some(toml::Value::Boolean(*b)),
        Scalar::Integer(i) => Some(toml::Value::Integer(*i)),
        Scalar::Float(f) => Some(toml::Value::Float(*f)),
        Scalar::Text(s) => Some(toml::Value::String(s.clone())),
    };
    match value {
        Value::Absent => None,
        Value::Boolean(b) => Some(toml::Value::Boolean(*b)),
        Value::Integer(i) => Some(toml::Value::Integer(*i)),
        Value::Float(f) => Some(toml::Value::Float(*f)),
        Value::Text(s) => Some(toml::Value::String(s.clone())),
        Value::List(items) => Some(toml::Value::Array(
            items.iter().filter_map(scalar).collect(),
        )),
        Value::Json(json) => serde_json::from_str::<toml::Value>(json).ok(),
    }
}

/// One loaded plugin as `dump-config` writes it.
pub struct PluginDump<'a> {
    /// The plugin's name.
    pub name: &'a str,
    /// Its options as loaded.
    pub options: &'a PluginOptions,
    /// The configuration keys it declared.
    pub keys: Vec<ConfigKey>,
}

/// Writes a configuration file that loads `plugins` as they are now: the
/// common limits, each plugin's grants, limits and fault policy, and every
/// key it declared with its help and current value (its default unless the
/// configuration set it). Loading the output back gives the same output.
pub fn dump(paths: &[PathBuf], fail_fast: bool, limits: &Limits, plugins: &[PluginDump]) -> String {
    let mut out = String::from("# precept configuration: load it with -c FILE.\n");
    let toml_str = |s: &str| toml::Value::String(s.to_string()).to_string();
    let braces = |items: Vec<String>| {
        if items.is_empty() {
            "{}".to_string()
        } else {
            format!("{{ {} }}", items.join(", "))
        }
    };
    let list: Vec<String> = paths
        .iter()
        .map(|p| toml_str(&p.display().to_string()))
        .collect();
    writeln!(out, "plugins = [{}]", list.join(", ")).unwrap();
    writeln!(out, "fail-fast = {fail_fast}").unwrap();
    writeln!(out, "\n[limits]").unwrap();
    write_limits(&mut out, limits);
    for plugin in plugins {
        let sandbox = &plugin.options.sandbox;
        let section = format!("plugin.{}", toml_key(plugin.name));
        writeln!(out, "\n[{section}]").unwrap();
        let dirs: Vec<String> = sandbox
            .grants
            .dirs
            .iter()
            .map(|d| {
                format!(
                    "{{ host = {}, guest = {}, writable = {} }}",
                    toml_str(&d.host.display().to_string()),
                    toml_str(&d.guest),
                    d.writable
                )
            })
            .collect();
        writeln!(out, "dirs = [{}]", dirs.join(", ")).unwrap();
        let env: Vec<String> = sandbox
            .grants
            .env
            .iter()
            .map(|(k, v)| format!("{} = {}", toml_key(k), toml_str(v)))
            .collect();
        writeln!(out, "env = {}", braces(env)).unwrap();
        let args: Vec<String> = sandbox.grants.args.iter().map(|a| toml_str(a)).collect();
        writeln!(out, "args = [{}]", args.join(", ")).unwrap();
        let net: Vec<String> = sandbox.grants.net.iter().map(|h| toml_str(h)).collect();
        writeln!(out, "net = [{}]", net.join(", ")).unwrap();
        writeln!(out, "fail-fast = {}", plugin.options.fatal).unwrap();
        writeln!(out, "\n[{section}.limits]").unwrap();
        write_limits(&mut out, &sandbox.limits);
        writeln!(out, "\n[{section}.config]").unwrap();
        for key in &plugin.keys {
            let current = plugin
                .options
                .config
                .iter()
                .find(|(k, _)| *k == key.key)
                .map_or(&key.default, |(_, v)| v);
            writeln!(out, "# {}", key.help).unwrap();
            match to_toml(current) {
                Some(value) => writeln!(out, "{} = {value}", toml_key(&key.key)).unwrap(),
                None => writeln!(out, "# {} =", toml_key(&key.key)).unwrap(),
            }
        }
    }
    out
}

/// `key` as a TOML key: bare when it can be, quoted otherwise.
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        key.to_string()
    } else {
        toml::Value::String(key.to_string()).to_string()
    }
}

fn write_limits(out: &mut String, limits: &Limits) {
    writeln!(out, "deadline-ms = {}", limits.call.as_millis()).unwrap();
    match limits.command {
        Some(deadline) => writeln!(out, "command-deadline-ms = {}", deadline.as_millis()).unwrap(),
        None => writeln!(out, "# command-deadline-ms = (no limit)").unwrap(),
    }
    writeln!(out, "wait-ms = {}", limits.wait.as_millis()).unwrap();
    writeln!(out, "memory-mib = {}", limits.memory_bytes >> 20).unwrap();
    match limits.max_errors {
        Some(max) => writeln!(out, "max-errors = {max}").unwrap(),
        None => writeln!(out, "# max-errors = (never disabled for errors)").unwrap(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_parses() {
        let config = Config::parse(
            r#"
            plugins = ["a.wasm"]
            [limits]
            deadline-ms = 250
            [plugin.greet]
            env = { MODE = "fast" }
            dirs = [{ host = "/srv", guest = "/data" }]
            limits = { memory-mib = 8 }
            [plugin.greet.config]
            greeting = "Hi"
            times = [1, 2]
            nested = { a = 1 }
            "#,
        )
        .unwrap();
        let options = config.plugin_options("greet", "f.toml", PluginOptions::default());
        assert_eq!(options.sandbox.limits.call, Duration::from_millis(250));
        assert_eq!(options.sandbox.limits.memory_bytes, 8 << 20);
        assert_eq!(options.sandbox.grants.env, [("MODE".into(), "fast".into())]);
        assert_eq!(options.sandbox.grants.dirs[0].guest, "/data");
        assert_eq!(
            options.config,
            vec![
                ("greeting".to_string(), Value::Text("Hi".into())),
                ("nested".to_string(), Value::Json(r#"{"a":1}"#.into())),
                (
                    "times".to_string(),
                    Value::List(vec![Scalar::Integer(1), Scalar::Integer(2)])
                ),
            ]
        );
    }

    #[test]
    fn errors_name_the_line_the_key_and_what_was_expected() {
        let (line, message) =
            Config::parse("plugins = []\n[limits]\ndeadline-ms = \"soon\"\n").unwrap_err();
        assert_eq!(line, Some(3));
        assert!(message.starts_with("deadline-ms: "), "{message}");
        assert!(message.contains("expected u64"), "{message}");

        let (line, message) = Config::parse("plugins = []\nplugin-dirs = \"x\"\n").unwrap_err();
        assert_eq!(line, Some(2));
        assert!(message.contains("unknown field `plugin-dirs`"), "{message}");
        assert!(message.contains("expected one of"), "{message}");
    }
}
