//! `plugin.toml` beside a plugin's sources: who the plugin is and what it
//! needs, written into the component it builds. The identity (`[plugin]`:
//! name, version, description, authors, licenses, homepage, source,
//! revision) becomes the standard metadata sections, as `wasm-tools
//! metadata add` writes them; the name, the capabilities (`[[dir]]`,
//! `[[env]]`, `[[net]]`, `[data]`) and what `setup` does (`[lazy]`: its
//! events and commands, for a plugin loaded lazily) become the
//! `precept-manifest` section. The runtime checks them when it loads the
//! plugin.

use std::path::Path;

use wasm_encoder::{ComponentSection, CustomSection};
use wasm_metadata::{AddMetadata, AddMetadataField};

use crate::BuildError;

/// The file read beside the sources.
pub const FILE: &str = "plugin.toml";

/// What `FILE` was called before: read, with a note, when `FILE` is not
/// there (`precept.toml` is also the name of `precept-run`'s
/// configuration file).
const OLD_FILE: &str = "precept.toml";

const IDENTITY: &[&str] = &[
    "name",
    "version",
    "description",
    "authors",
    "licenses",
    "homepage",
    "source",
    "revision",
];

/// Writes what `dir`'s `plugin.toml` says into the component `out`; no
/// file, no change.
pub(crate) fn apply(dir: &Path, out: &Path) -> Result<(), BuildError> {
    let mut file = dir.join(FILE);
    if !file.exists() && dir.join(OLD_FILE).is_file() {
        file = dir.join(OLD_FILE);
        eprintln!(
            "note: reading {}; rename it to {FILE} (precept.toml is the name of precept-run's configuration)",
            file.display()
        );
    }
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(BuildError::io(&file)(error)),
    };
    let invalid = |why: String| BuildError::Component(anyhow::anyhow!("{}: {why}", file.display()));
    let table: toml::Table = toml::from_str(&text).map_err(|e| invalid(e.message().to_string()))?;
    let mut manifest = toml::Table::new();
    let mut identity = toml::Table::new();
    for (key, value) in table {
        match key.as_str() {
            "plugin" => {
                let toml::Value::Table(plugin) = value else {
                    return Err(invalid("[plugin] must be a table".into()));
                };
                for (field, value) in plugin {
                    if !IDENTITY.contains(&field.as_str()) {
                        return Err(invalid(format!("unknown key plugin.{field}")));
                    }
                    let toml::Value::String(_) = value else {
                        return Err(invalid(format!("plugin.{field} must be a string")));
                    };
                    identity.insert(field, value);
                }
            }
            "dir" | "env" | "net" | "data" | "lazy" => {
                manifest.insert(key, value);
            }
            other => {
                return Err(invalid(format!(
                    "unknown key {other}: expected [plugin], [[dir]], [[env]], [[net]], [data] or [lazy]"
                )));
            }
        }
    }
    let field = |key: &str| {
        identity
            .get(key)
            .and_then(toml::Value::as_str)
            .map(str::to_string)
    };
    if let Some(name) = field("name") {
        let mut plugin = toml::Table::new();
        plugin.insert("name".into(), name.into());
        manifest.insert("plugin".into(), plugin.into());
    }

    let mut metadata = AddMetadata::default();
    metadata.name = set(field("name"));
    metadata.version = set(field("version").map(wasm_metadata::Version::new));
    metadata.description = set(field("description").map(wasm_metadata::Description::new));
    metadata.authors = set(field("authors").map(wasm_metadata::Authors::new));
    metadata.revision = set(field("revision").map(wasm_metadata::Revision::new));
    let checked = |key: &str, error: anyhow::Error| invalid(format!("plugin.{key}: {error}"));
    if let Some(licenses) = field("licenses") {
        let licenses =
            wasm_metadata::Licenses::new(&licenses).map_err(|e| checked("licenses", e))?;
        metadata.licenses = AddMetadataField::Set(licenses);
    }
    if let Some(source) = field("source") {
        let source = wasm_metadata::Source::new(&source).map_err(|e| checked("source", e))?;
        metadata.source = AddMetadataField::Set(source);
    }
    if let Some(homepage) = field("homepage") {
        let homepage =
            wasm_metadata::Homepage::new(&homepage).map_err(|e| checked("homepage", e))?;
        metadata.homepage = AddMetadataField::Set(homepage);
    }
    let component = std::fs::read(out).map_err(BuildError::io(out))?;
    let mut component = metadata
        .to_wasm(&component)
        .map_err(BuildError::Component)?;
    if !manifest.is_empty() {
        let text = toml::to_string(&manifest).map_err(|e| invalid(e.to_string()))?;
        let section = CustomSection {
            name: "precept-manifest".into(),
            data: text.as_bytes().into(),
        };
        section.append_to_component(&mut component);
    }
    std::fs::write(out, component).map_err(BuildError::io(out))
}

/// `value` set, or the field kept as it is.
fn set<T: std::fmt::Debug + Clone>(value: Option<T>) -> AddMetadataField<T> {
    value.map_or(AddMetadataField::Keep, AddMetadataField::Set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply_text(text: &str) -> Result<(), BuildError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), text).unwrap();
        apply(dir.path(), &dir.path().join("missing.wasm"))
    }

    #[test]
    fn unknown_keys_are_refused_with_their_name() {
        let error = apply_text("[plugin]\ncolour = \"red\"\n").unwrap_err();
        assert!(
            error.to_string().contains("unknown key plugin.colour"),
            "{error}"
        );
        let error = apply_text("[[file]]\npath = \"/x\"\n").unwrap_err();
        assert!(error.to_string().contains("unknown key file"), "{error}");
    }

    #[test]
    fn without_a_file_nothing_changes() {
        let dir = tempfile::tempdir().unwrap();
        assert!(apply(dir.path(), &dir.path().join("missing.wasm")).is_ok());
    }
}
