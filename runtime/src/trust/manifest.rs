//! What a component says about itself, read without running any of its
//! code: who it is (the standard metadata custom sections that
//! `wasm-tools metadata add`, `precept-build` and the guest SDKs write) and
//! what it needs (the capabilities in its `precept-manifest` section).

use serde::{Deserialize, Serialize};
use wasmparser::{Chunk, ComponentName, KnownCustom, Parser, Payload};

use crate::model::command_spec::CommandSpec;
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
    /// What its `setup` does, declared so that it may be loaded lazily.
    pub lazy: Option<Declared>,
}

/// What a plugin's `setup` does, declared in its manifest's `[lazy]`
/// table: the events it subscribes to and the commands it adds. A plugin
/// that declares them may be loaded when one of them first occurs instead
/// of at start (docs/ARCHITECTURE.md, "Plugins loaded lazily").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declared {
    /// The events its `setup` subscribes to.
    #[serde(default)]
    pub events: Vec<String>,
    /// The commands its `setup` adds, as it adds them.
    #[serde(default)]
    pub(crate) commands: Vec<CommandSpec>,
}

impl Declared {
    /// The names of the commands it declares.
    pub fn command_names(&self) -> impl Iterator<Item = &str> {
        self.commands.iter().map(|c| c.name.as_str())
    }

    /// Checks its size: a bounded number of events and commands, each
    /// event named once.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.events.len() > MAX_DECLARED_EVENTS {
            return Err(format!(
                "[lazy] declares {} events; at most {MAX_DECLARED_EVENTS} are allowed",
                self.events.len()
            ));
        }
        if self.commands.len() > MAX_DECLARED_COMMANDS {
            return Err(format!(
                "[lazy] declares {} commands; at most {MAX_DECLARED_COMMANDS} are allowed",
                self.commands.len()
            ));
        }
        for (i, event) in self.events.iter().enumerate() {
            if event.is_empty() || event.len() > MAX_EVENT_NAME_BYTES {
                return Err(format!(
                    "[lazy] declares an event name of {} bytes; 1 to {MAX_EVENT_NAME_BYTES} are allowed",
                    event.len()
                ));
            }
            if self.events[..i].contains(event) {
                return Err(format!(
                    "[lazy] declares the event '{}' twice",
                    crate::io::text::clean(event, MAX_FIELD_CHARS)
                ));
            }
        }
        Ok(())
    }
}

/// The most events a `[lazy]` table declares.
const MAX_DECLARED_EVENTS: usize = 256;

/// The most commands a `[lazy]` table declares: the default limit of
/// commands a plugin adds (`Limits::commands`).
const MAX_DECLARED_COMMANDS: usize = 32;

/// The longest event name a `[lazy]` table declares.
const MAX_EVENT_NAME_BYTES: usize = 256;

/// The `precept-manifest` section: `[plugin]` with its name, then one
/// `[[dir]]`, `[[env]]` or `[[net]]` table per capability, `[data]`, and
/// `[lazy]`.
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
    #[serde(default)]
    lazy: Option<Declared>,
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
    let mut section = Section::default();
    if let Some((_, data)) = manifest {
        section = parse_section(data)?;
        if outer.name.is_none() {
            outer.name = section.name.as_deref().and_then(shown);
        }
    }
    outer.fill_from(inner);
    Ok(Manifest {
        identity: outer,
        capabilities: section.capabilities,
        world,
        lazy: section.lazy,
    })
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginTable {
    name: Option<String>,
}

/// What a `precept-manifest` section says, checked.
#[derive(Debug, Default)]
struct Section {
    name: Option<String>,
    capabilities: Capabilities,
    lazy: Option<Declared>,
}

/// Parses and checks a `precept-manifest` section: the name it gives, the
/// capabilities it declares, and what its `setup` does.
fn parse_section(data: &[u8]) -> Result<Section, String> {
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
    if let Some(lazy) = &section.lazy {
        lazy.check().map_err(|e| invalid(&e))?;
    }
    Ok(Section {
        name: section.plugin.name,
        capabilities: declared,
        lazy: section.lazy,
    })
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
    fn a_lazy_table_declares_events_and_commands_as_setup_adds_them() {
        let section = parse_section(
            br#"
            [lazy]
            events = ["wake-up"]
            commands = [{ name = "nap", help = "Take a nap", args = [
                { name = "minutes", kind = "integer", default = "5" },
                { name = "who", style = "positional", required = true, short = "w" },
            ] }]
            "#,
        )
        .unwrap();
        let lazy = section.lazy.unwrap();
        assert_eq!(lazy.events, ["wake-up"]);
        let nap = &lazy.commands[0];
        assert_eq!(
            (nap.name.as_str(), nap.help.as_str()),
            ("nap", "Take a nap")
        );
        let minutes = &nap.args[0];
        assert_eq!(minutes.kind, crate::model::command_spec::ValueKind::Integer);
        assert_eq!(minutes.style, crate::model::command_spec::ArgStyle::Option);
        assert_eq!(minutes.default.as_deref(), Some("5"));
        let who = &nap.args[1];
        assert_eq!(who.style, crate::model::command_spec::ArgStyle::Positional);
        assert!(who.required && who.short == Some('w'));

        assert!(
            parse_section(b"[lazy]\nevents = [\"a\", \"a\"]")
                .unwrap_err()
                .contains("twice")
        );
        assert!(
            parse_section(b"[lazy]\nevents = [\"\"]")
                .unwrap_err()
                .contains("1 to 256")
        );
        let many: Vec<String> = (0..257).map(|i| format!("\"e{i}\"")).collect();
        let many = format!("[lazy]\nevents = [{}]", many.join(","));
        assert!(
            parse_section(many.as_bytes())
                .unwrap_err()
                .contains("at most 256")
        );
        let colour = parse_section(b"[lazy]\ncommands = [{ name = \"a\", colour = 1 }]");
        assert!(colour.unwrap_err().contains("colour"));
    }

    #[test]
    fn bytes_that_are_not_a_component_have_no_identity() {
        assert_eq!(read(b"not wasm").unwrap(), Manifest::default());
    }
}
