//! Debug information dropped from a built component: the `name` and
//! `.debug_*` custom sections of each of its core modules, which only a
//! debugger or a profiler reads. Every other section is kept as it is,
//! its header included, component-level custom sections (the manifest,
//! the identity) too; only the sections that enclose a module that lost
//! some get a new size.
//!
//! Each core module's names are metadata the runtime deserializes at every
//! start: for a Python plugin, 13,000 function names in CPython's modules.

use std::path::Path;

use crate::BuildError;

use crate::binary::{
    self, COMPONENT_PREAMBLE, COMPONENT_SECTION, CORE_MODULE_SECTION, CUSTOM_SECTION,
    MODULE_PREAMBLE,
};

/// The most components that may enclose a core module here.
const MAX_DEPTH: usize = 32;

/// The component or core module `bytes`, the file `path`, without the
/// debug custom sections of its core modules, nested ones included.
pub(crate) fn debug_sections(bytes: &[u8], path: &Path) -> Result<Vec<u8>, BuildError> {
    let kind = match bytes.get(..8) {
        Some(p) if p == COMPONENT_PREAMBLE => Kind::Component,
        _ => Kind::Module,
    };
    rewrite(bytes, kind, 0).map_err(|why| BuildError::Rewrite {
        path: path.display().to_string(),
        what: "its debug sections",
        why,
    })
}

/// What a binary is, or what a section must hold.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Module,
    Component,
}

/// `bytes`, which must be a `kind`, with its core modules' debug sections
/// left out; `depth` components enclose it.
fn rewrite(bytes: &[u8], kind: Kind, depth: usize) -> Result<Vec<u8>, &'static str> {
    if depth > MAX_DEPTH {
        return Err("its components nest too deep");
    }
    let preamble = bytes.get(..8).ok_or("not a WebAssembly binary")?;
    let found = match preamble {
        p if p == COMPONENT_PREAMBLE => Kind::Component,
        p if p == MODULE_PREAMBLE => Kind::Module,
        _ => return Err("not a WebAssembly module or component of a known version"),
    };
    if found != kind {
        return Err(match kind {
            Kind::Module => "a core module section holds a component",
            Kind::Component => "a component section holds a core module",
        });
    }
    let mut out = preamble.to_vec();
    for section in binary::sections(bytes) {
        let section = section?;
        let nested = match (kind, section.id) {
            (Kind::Component, CORE_MODULE_SECTION) => Some(Kind::Module),
            (Kind::Component, COMPONENT_SECTION) => Some(Kind::Component),
            _ => None,
        };
        match nested {
            Some(nested) => {
                let body = rewrite(section.body, nested, depth + 1)?;
                binary::write_section(section.id, &body, &mut out)?;
            }
            None if kind == Kind::Module
                && section.id == CUSTOM_SECTION
                && is_debug(section.body)? => {}
            // Kept byte for byte, its header as it was written.
            None => out.extend_from_slice(section.whole),
        }
    }
    Ok(out)
}

/// Whether the custom section `body` is debug information: function names
/// (`name`) or DWARF (`.debug_*`).
fn is_debug(body: &[u8]) -> Result<bool, &'static str> {
    let mut at = 0;
    let length = binary::read_leb128(body, &mut at)?;
    let name = body
        .get(at..at.saturating_add(length))
        .ok_or("a custom section's name runs past its end")?;
    Ok(name == b"name" || name.starts_with(b".debug_"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        CodeSection, Component, CustomSection, Function, FunctionSection, Module, ModuleSection,
        NestedComponentSection, TypeSection,
    };

    /// A core module with a function, its names, DWARF, a section of
    /// precept's own and a `producers` section.
    fn module() -> Module {
        let mut module = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        module.section(&types);
        let mut functions = FunctionSection::new();
        functions.function(0);
        module.section(&functions);
        let mut code = CodeSection::new();
        let mut body = Function::new([]);
        body.instructions().end();
        code.function(&body);
        module.section(&code);
        let mut names = wasm_encoder::NameSection::new();
        let mut map = wasm_encoder::NameMap::new();
        map.append(0, "a_function_with_a_name");
        names.functions(&map);
        module.section(&names);
        for (name, data) in [
            (".debug_info", &b"dwarf"[..]),
            ("precept-manifest", b"[plugin]"),
            ("producers", b"\0"),
        ] {
            module.section(&CustomSection {
                name: name.into(),
                data: data.into(),
            });
        }
        module
    }

    /// The custom sections of `bytes`, as `(depth, name)`: 0 for the
    /// outer component's.
    fn custom_sections(bytes: &[u8]) -> Vec<(usize, String)> {
        let mut found = Vec::new();
        let mut depth = 0;
        for payload in wasmparser::Parser::new(0).parse_all(bytes) {
            match payload.unwrap() {
                wasmparser::Payload::Version { .. } => depth += 1,
                wasmparser::Payload::End(_) => depth -= 1,
                wasmparser::Payload::CustomSection(section) => {
                    found.push((depth - 1, section.name().to_string()))
                }
                _ => {}
            }
        }
        found
    }

    #[test]
    fn names_and_dwarf_leave_every_core_module_and_nothing_else_does() {
        let mut inner = Component::new();
        inner.section(&ModuleSection(&module()));
        let mut outer = Component::new();
        outer.section(&ModuleSection(&module()));
        outer.section(&NestedComponentSection(&inner));
        outer.section(&CustomSection {
            name: "name".into(),
            data: b"\0".as_slice().into(),
        });
        let bytes = outer.finish();
        let stripped = debug_sections(&bytes, Path::new("test.wasm")).unwrap();

        let features = wasmparser::WasmFeatures::default();
        wasmparser::Validator::new_with_features(features)
            .validate_all(&stripped)
            .unwrap();
        assert_eq!(
            custom_sections(&stripped),
            [
                (1, "precept-manifest".to_string()),
                (1, "producers".to_string()),
                (2, "precept-manifest".to_string()),
                (2, "producers".to_string()),
                (0, "name".to_string()),
            ]
        );
        let dropped = custom_sections(&bytes).len() - custom_sections(&stripped).len();
        assert_eq!(dropped, 4);
        // Stripping again changes nothing.
        let again = debug_sections(&stripped, Path::new("test.wasm")).unwrap();
        assert_eq!(again, stripped);
    }

    #[test]
    fn a_section_kept_keeps_its_header_as_written() {
        // A custom section whose size is padded to five bytes, as Go's
        // linker writes sizes, in a module inside a component.
        let mut module = MODULE_PREAMBLE.to_vec();
        module.extend([CUSTOM_SECTION, 0x84, 0x80, 0x80, 0x80, 0]);
        module.extend(b"\x03abc");
        let mut component = COMPONENT_PREAMBLE.to_vec();
        component.extend([CORE_MODULE_SECTION, module.len() as u8]);
        component.extend(&module);
        let stripped = debug_sections(&component, Path::new("test.wasm")).unwrap();
        assert_eq!(stripped, component);
    }

    #[test]
    fn a_cut_or_foreign_file_is_an_error() {
        let strip = |bytes: &[u8]| debug_sections(bytes, Path::new("test.wasm"));
        let mut outer = Component::new();
        outer.section(&ModuleSection(&module()));
        let bytes = outer.finish();
        for cut in [4, 9, 12, bytes.len() - 1] {
            assert!(strip(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert!(strip(b"not wasm at all").is_err());
        // A core module of another version.
        assert!(strip(b"\0asm\x02\0\0\0").is_err());
        // A core module section that holds a component.
        let mut wrong = COMPONENT_PREAMBLE.to_vec();
        wrong.extend([CORE_MODULE_SECTION, 8]);
        wrong.extend(COMPONENT_PREAMBLE);
        assert!(strip(&wrong).is_err());
        // Sizes over 32 bits, and longer than five bytes.
        for size in [
            &[0xff, 0xff, 0xff, 0xff, 0x7f][..],
            &[0x80, 0x80, 0x80, 0x80, 0x80, 0],
        ] {
            let mut module = MODULE_PREAMBLE.to_vec();
            module.push(CUSTOM_SECTION);
            module.extend(size);
            assert!(strip(&module).is_err(), "{size:?}");
        }
    }
}
