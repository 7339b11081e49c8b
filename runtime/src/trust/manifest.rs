//! What a component says about itself, read without running any of its
//! code: who it is (the standard metadata custom sections that
//! `wasm-tools metadata add`, `precept-build` and the guest SDKs write) and
//! what it needs (the capabilities in its `precept-manifest` section).

use serde::{Deserialize, Serialize};
use wasmparser::{Chunk, ComponentName, KnownCustom, Parser, Payload};

use crate::trust::capabilities::{
    Capabilities, DataCapability, DirCapability, EnvCapability, NetCapability,
};

/// The custom section holding a plugin's name and declared capabilities,
/// as TOML (see docs/PLUGIN-AUTHORS.md).
pub const MANIFEST_SECTION: &str = "precept-manifest";

/// The largest manifest section read; a larger one is refused.
const MAX_MANIFEST_BYTES: usize = 64 << 10;

/// The longest identity field shown; longer ones are cut.
const MAX_FIELD_CHARS: usize = 200;

/// Who a plugin says it is. Every field is optional; each is one safe line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// Its name: the component's name, else its manifest's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its version (the `version` section).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// What it does (`description`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who made it (`authors`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authors: Option<String>,
    /// Its licence, an SPDX expression (`licenses`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licenses: Option<String>,
    /// Where to learn more (`homepage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    /// Where its source is (`source`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The source revision it was built from (`revision`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
}

impl Identity {
    /// The field named after its custom section, to fill.
    fn field(&mut self, section: &str) -> Option<&mut Option<String>> {
        Some(match section {
            "version" => &mut self.version,
            "description" => &mut self.description,
            "authors" => &mut self.authors,
            "licenses" => &mut self.licenses,
            "homepage" => &mut self.homepage,
            "source" => &mut self.source,
            "revision" => &mut self.revision,
            _ => return None,
        })
    }

    /// Fills the fields this one lacks from `other`.
    fn fill_from(&mut self, mut other: Identity) {
        if self.name.is_none() {
            self.name = other.name.take();
        }
        for section in SECTIONS {
            let theirs = other.field(section).and_then(Option::take);
            if let Some(mine) = self.field(section)
                && mine.is_none()
            {
                *mine = theirs;
            }
        }
    }
}

/// The standard metadata sections holding one identity field each.
const SECTIONS: [&str; 7] = [
    "version",
    "description",
    "authors",
    "licenses",
    "homepage",
    "source",
    "revision",
];

/// What a component says about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    /// Who it is.
    pub identity: Identity,
    /// What it declares it needs.
    pub capabilities: Capabilities,
    /// The `precept:plugin` version its imports name, e.g. `0.2.0`.
    pub world: Option<String>,
}

/// The `precept-manifest` section: `[plugin]` with its name, then one
/// `[[dir]]`, `[[env]]` or `[[net]]` table per capability, and `[data]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestSection {
    #[serde(default)]
    plugin: PluginTable,
    #[serde(default)]
    dir: Vec<DirCapability>,
    #[serde(default)]
    env: Vec<EnvCapability>,
    #[serde(default)]
    net: Vec<NetCapability>,
    #[serde(default)]
    data: Option<DataCapability>,
}

impl Manifest {
    /// Reads what the component `bytes` says about itself, without running
    /// any of its code; `Err` when its manifest section is malformed.
    pub fn from_component(bytes: &[u8]) -> Result<Manifest, String> {
        read(bytes)
    }
}

/// How deep components and modules may nest inside a plugin's file: a
/// parser is kept for each level while it is read.
const MAX_NESTING: usize = 16;

/// Reads what the component `bytes` says about itself. The component's
/// own sections come first; those of the modules inside it fill what they
/// lack (the Rust SDK writes its sections into its core module). Bytes that
/// are not a valid component give what was read before the fault: loading
/// reports what is wrong with them.
pub(crate) fn read(bytes: &[u8]) -> Result<Manifest, String> {
    let mut outer = Identity::default();
    let mut inner = Identity::default();
    let mut manifest: Option<(usize, &[u8])> = None;
    let mut world = None;
    // The parsers of the components and modules being read, innermost
    // last; function bodies are skipped, not parsed.
    let mut parsers = vec![Parser::new(0)];
    let mut offset = 0;
    while !parsers.is_empty() {
        let depth = parsers.len() - 1;
        let parser = &mut parsers[depth];
        // A section's size may point past the end of a cut file (tested by
        // `loading.rs::a_truncated_component_fails_to_compile`).
        let Some(rest) = bytes.get(offset..) else {
            break;
        };
        let Ok(Chunk::Parsed { consumed, payload }) = parser.parse(rest, true) else {
            break;
        };
        offset += consumed;
        match payload {
            Payload::CodeSectionStart { size, .. } => {
                parser.skip_section();
                offset += size as usize;
            }
            Payload::ModuleSection { parser, .. } | Payload::ComponentSection { parser, .. } => {
                if parsers.len() > MAX_NESTING {
                    return Err(format!(
                        "its components and modules nest deeper than {MAX_NESTING}"
                    ));
                }
                parsers.push(parser);
            }
            Payload::End(_) => {
                parsers.pop();
            }
            Payload::ComponentImportSection(imports) if depth == 0 => {
                // Every `precept:plugin` import names one version: a
                // component that mixes them is refused, not classified by
                // its first.
                let versions = imports
                    .into_iter()
                    .flatten()
                    .filter_map(|import| import.name.name.strip_prefix("precept:plugin/"))
                    .filter_map(|rest| rest.split_once('@').and_then(|(_, v)| shown(v)));
                for version in versions {
                    match &world {
                        Some(seen) if *seen != version => {
                            return Err(format!(
                                "it imports precept:plugin interfaces of two versions, {seen} and {version}"
                            ));
                        }
                        _ => world = Some(version),
                    }
                }
            }
            Payload::CustomSection(reader) => {
                let identity = if depth == 0 { &mut outer } else { &mut inner };
                match reader.name() {
                    MANIFEST_SECTION => {
                        if manifest.is_none_or(|(at, _)| depth < at) {
                            manifest = Some((depth, reader.data()));
                        }
                    }
                    "component-name" if depth == 0 => {
                        if let KnownCustom::ComponentName(names) = reader.as_known() {
                            for name in names.into_iter().flatten() {
                                if let ComponentName::Component { name, .. } = name {
                                    identity.name = shown(name);
                                }
                            }
                        }
                    }
                    section => {
                        if let Some(field) = identity.field(section)
                            && field.is_none()
                        {
                            *field = std::str::from_utf8(reader.data()).ok().and_then(shown);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let mut capabilities = Capabilities::default();
    if let Some((_, data)) = manifest {
        let (name, declared) = parse_section(data)?;
        if outer.name.is_none() {
            outer.name = name.as_deref().and_then(shown);
        }
        capabilities = declared;
    }
    outer.fill_from(inner);
    Ok(Manifest {
        identity: outer,
        capabilities,
        world,
    })
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginTable {
    name: Option<String>,
}

/// Parses and checks a `precept-manifest` section: the name it gives and
/// the capabilities it declares.
fn parse_section(data: &[u8]) -> Result<(Option<String>, Capabilities), String> {
    if data.len() > MAX_MANIFEST_BYTES {
        return Err(format!(
            "its {MANIFEST_SECTION} section has {} bytes; at most {MAX_MANIFEST_BYTES} are read",
            data.len()
        ));
    }
    let invalid = |why: &str| format!("its {MANIFEST_SECTION} section is not valid: {why}");
    let text = std::str::from_utf8(data).map_err(|_| invalid("it is not UTF-8"))?;
    let section: ManifestSection =
        toml::from_str(text).map_err(|e| invalid(&crate::io::text::clean(e.message(), 200)))?;
    let declared = Capabilities {
        dirs: section.dir,
        env: section.env,
        net: section.net,
        data: section.data,
    };
    declared.check().map_err(|e| invalid(&e))?;
    Ok((section.plugin.name, declared))
}

/// One field as shown: a safe line, `None` when empty.
fn shown(text: &str) -> Option<String> {
    let text = crate::io::text::clean(text.trim(), MAX_FIELD_CHARS);
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_manifest_section_is_refused_with_the_reason() {
        assert!(parse_section(b"dir = 3").unwrap_err().contains("not valid"));
        assert!(
            parse_section(b"colour = 'red'")
                .unwrap_err()
                .contains("colour")
        );
        let huge = vec![b' '; MAX_MANIFEST_BYTES + 1];
        assert!(parse_section(&huge).unwrap_err().contains("bytes"));
    }

    #[test]
    fn bytes_that_are_not_a_component_have_no_identity() {
        assert_eq!(read(b"not wasm").unwrap(), Manifest::default());
    }
}
