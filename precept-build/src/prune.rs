//! Exports no one can reach left out of a built component's core modules.
//!
//! A component made of several core modules (CPython and its libraries,
//! linked as shared libraries are) has each of them export every symbol
//! another might import, though the component wires up only some: the
//! Python hello's CPython exports 1,857 names, of which the others use
//! 418. Every export is metadata the runtime deserializes and interns at
//! each start, and each exported function needs a reference of its own at
//! instantiation. Within a component, a core instance's export is reached
//! only through an alias of it or as an import of a module instantiated
//! with that instance, so every other export of the component's own core
//! modules is left out. Nothing else changes, and a component that hands
//! one of its core modules elsewhere (a nested component, an export) keeps
//! them all.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use wasmparser::{
    ComponentAlias, ComponentExternalKind, ComponentInstance, ComponentOuterAliasKind,
    ComponentTypeRef, Encoding, ExportSectionReader, Instance, Parser, Payload,
};

use crate::BuildError;
use crate::binary::{self, COMPONENT_PREAMBLE, CORE_MODULE_SECTION, EXPORT_SECTION};

/// The component `bytes`, the file `path`, without the exports of its
/// core modules that nothing can reach; a core module is returned as it is.
pub(crate) fn unreachable_exports(bytes: &[u8], path: &Path) -> Result<Vec<u8>, BuildError> {
    if !bytes.starts_with(COMPONENT_PREAMBLE) {
        return Ok(bytes.to_vec());
    }
    let error = |why| BuildError::Rewrite {
        path: path.display().to_string(),
        what: "the exports no one reaches",
        why,
    };
    let Some(reached) = reached_exports(bytes).map_err(error)? else {
        return Ok(bytes.to_vec());
    };
    let lean = without_exports(bytes, &reached).map_err(error)?;
    // A component that cannot be read is an error, as it would be at
    // load; one that reads but, left out of, would not link is kept whole.
    match links(&lean) {
        true => Ok(lean),
        false => Ok(bytes.to_vec()),
    }
}

/// Whether the component `bytes` validates but for its function bodies,
/// which leaving out exports does not change: every alias and every
/// import finds its export.
fn links(bytes: &[u8]) -> bool {
    let mut validator = wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all());
    Parser::new(0)
        .parse_all(bytes)
        .all(|payload| payload.is_ok_and(|payload| validator.payload(&payload).is_ok()))
}

/// For each core module of the component `bytes` (by its index among the
/// component's core module sections), the names of its exports that can
/// be reached; `None` when a core module may be reached otherwise than
/// through the component's own core instances.
fn reached_exports(bytes: &[u8]) -> Result<Option<Vec<HashSet<String>>>, &'static str> {
    const MALFORMED: &str = "it is not a well-formed component";
    // Each core module's imports, as (module, name).
    let mut imports: Vec<Vec<(String, String)>> = Vec::new();
    // Each core instance: the module it instantiates, if it does.
    let mut instances: Vec<Option<usize>> = Vec::new();
    // Each instantiation's arguments: (module, argument name, instance).
    let mut arguments: Vec<(usize, String, usize)> = Vec::new();
    // Each alias of a core instance's export: (instance, name).
    let mut aliases: Vec<(usize, String)> = Vec::new();
    // Whether each enclosing binary is a component, the outermost first.
    let mut enclosing: Vec<bool> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|_| MALFORMED)?;
        match &payload {
            Payload::Version { encoding, .. } => {
                enclosing.push(*encoding == Encoding::Component);
                continue;
            }
            Payload::End(_) => {
                enclosing.pop();
                continue;
            }
            _ => {}
        }
        let outermost = enclosing.len() == 1;
        match payload {
            // The imports of one of the component's own core modules.
            Payload::ImportSection(section) if enclosing == [true, false] => {
                let module = imports.last_mut().ok_or(MALFORMED)?;
                for import in section.into_imports() {
                    let import = import.map_err(|_| MALFORMED)?;
                    module.push((import.module.to_string(), import.name.to_string()));
                }
            }
            Payload::ModuleSection { .. } if outermost => imports.push(Vec::new()),
            Payload::InstanceSection(section) if outermost => {
                for instance in section {
                    match instance.map_err(|_| MALFORMED)? {
                        Instance::Instantiate { module_index, args } => {
                            let module = module_index as usize;
                            for argument in args.iter() {
                                let index = argument.index as usize;
                                arguments.push((module, argument.name.to_string(), index));
                            }
                            instances.push(Some(module));
                        }
                        Instance::FromExports(_) => instances.push(None),
                    }
                }
            }
            Payload::ComponentAliasSection(section) => {
                for alias in section {
                    match alias.map_err(|_| MALFORMED)? {
                        ComponentAlias::CoreInstanceExport {
                            instance_index,
                            name,
                            ..
                        } if outermost => aliases.push((instance_index as usize, name.into())),
                        // A core module taken from elsewhere, or taken by a
                        // nested component: its exports are reached there.
                        ComponentAlias::Outer {
                            kind: ComponentOuterAliasKind::CoreModule,
                            ..
                        }
                        | ComponentAlias::InstanceExport {
                            kind: ComponentExternalKind::Module,
                            ..
                        } => return Ok(None),
                        _ => {}
                    }
                }
            }
            // A core module handed to a component instance, made one of
            // its exports, exported or imported.
            Payload::ComponentInstanceSection(section) if outermost => {
                for instance in section {
                    let handed = match instance.map_err(|_| MALFORMED)? {
                        ComponentInstance::Instantiate { args, .. } => {
                            args.iter().any(|a| a.kind == ComponentExternalKind::Module)
                        }
                        ComponentInstance::FromExports(exports) => exports
                            .iter()
                            .any(|e| e.kind == ComponentExternalKind::Module),
                    };
                    if handed {
                        return Ok(None);
                    }
                }
            }
            Payload::ComponentExportSection(section) if outermost => {
                for export in section {
                    if export.map_err(|_| MALFORMED)?.kind == ComponentExternalKind::Module {
                        return Ok(None);
                    }
                }
            }
            Payload::ComponentImportSection(section) if outermost => {
                for import in section {
                    if let ComponentTypeRef::Module(_) = import.map_err(|_| MALFORMED)?.ty {
                        return Ok(None);
                    }
                }
            }
            _ => {}
        }
    }
    let mut reached = vec![HashSet::new(); imports.len()];
    let mut reach = |instance: usize, name: &str| {
        if let Some(Some(module)) = instances.get(instance)
            && let Some(names) = reached.get_mut(*module)
        {
            names.insert(name.to_string());
        }
    };
    for (instance, name) in &aliases {
        reach(*instance, name);
    }
    // Each module's imports by the module they name, grouped once.
    let mut by_module: Vec<HashMap<&str, Vec<&str>>> = Vec::new();
    for module in &imports {
        let mut grouped: HashMap<&str, Vec<&str>> = HashMap::new();
        for (from, name) in module {
            grouped
                .entry(from.as_str())
                .or_default()
                .push(name.as_str());
        }
        by_module.push(grouped);
    }
    let arguments: HashSet<_> = arguments.iter().collect();
    for (module, argument, instance) in arguments {
        let grouped = by_module.get(*module).ok_or(MALFORMED)?;
        for name in grouped.get(argument.as_str()).into_iter().flatten() {
            reach(*instance, name);
        }
    }
    Ok(Some(reached))
}

/// The component `bytes` whose `i`th core module exports only the names
/// `reached[i]`.
fn without_exports(bytes: &[u8], reached: &[HashSet<String>]) -> Result<Vec<u8>, &'static str> {
    let mut out = COMPONENT_PREAMBLE.to_vec();
    let mut modules = reached.iter();
    for section in binary::sections(bytes) {
        let section = section?;
        if section.id != CORE_MODULE_SECTION {
            out.extend_from_slice(section.whole);
            continue;
        }
        let reached = modules
            .next()
            .ok_or("it has more core modules than it declares")?;
        let module = module_without_exports(section.body, reached)?;
        binary::write_section(CORE_MODULE_SECTION, &module, &mut out)?;
    }
    Ok(out)
}

/// The core module `bytes` exporting only the names `reached`.
fn module_without_exports(
    bytes: &[u8],
    reached: &HashSet<String>,
) -> Result<Vec<u8>, &'static str> {
    const MALFORMED: &str = "a core module's exports are malformed";
    let mut out = bytes.get(..8).ok_or(MALFORMED)?.to_vec();
    for section in binary::sections(bytes) {
        let section = section?;
        if section.id != EXPORT_SECTION {
            out.extend_from_slice(section.whole);
            continue;
        }
        let reader = wasmparser::BinaryReader::new(section.body, 0);
        let exports = ExportSectionReader::new(reader).map_err(|_| MALFORMED)?;
        // Each export's name and where its bytes start in the section.
        let mut starts = Vec::new();
        for export in exports.into_iter_with_offsets() {
            let (start, export) = export.map_err(|_| MALFORMED)?;
            starts.push((start as usize, export.name));
        }
        let mut kept = Vec::new();
        let mut count = 0u32;
        for (i, (start, name)) in starts.iter().enumerate() {
            let end = starts.get(i + 1).map_or(section.body.len(), |(s, _)| *s);
            if reached.contains(*name) {
                kept.extend_from_slice(section.body.get(*start..end).ok_or(MALFORMED)?);
                count += 1;
            }
        }
        let mut body = Vec::new();
        binary::write_leb128(count, &mut body);
        body.extend(kept);
        binary::write_section(EXPORT_SECTION, &body, &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        Alias, CodeSection, Component, ComponentAliasSection, ComponentExportKind,
        ComponentExportSection, EntityType, ExportKind, ExportSection, Function, FunctionSection,
        ImportSection, InstanceSection, Module, ModuleArg, ModuleSection, TypeSection,
    };

    /// A core module exporting a function under each of `names`.
    fn exporting(names: &[&str]) -> Module {
        let mut module = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        module.section(&types);
        let mut functions = FunctionSection::new();
        let mut exports = ExportSection::new();
        let mut code = CodeSection::new();
        for (index, name) in names.iter().enumerate() {
            functions.function(0);
            exports.export(name, ExportKind::Func, index as u32);
            let mut body = Function::new([]);
            body.instructions().end();
            code.function(&body);
        }
        module.section(&functions);
        module.section(&exports);
        module.section(&code);
        module
    }

    /// A core module importing the function `name` from `from`.
    fn importing(from: &str, name: &str) -> Module {
        let mut module = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        module.section(&types);
        let mut imports = ImportSection::new();
        imports.import(from, name, EntityType::Function(0));
        module.section(&imports);
        module
    }

    /// A component whose first module exports `f`, `g` and `h`: a second
    /// module instantiated with its instance as `lib` imports `f`, and `g`
    /// is aliased.
    fn linked() -> Component {
        let mut component = Component::new();
        link(&mut component, 0);
        component
    }

    /// Adds to `component`, whose core modules and instances number
    /// `before`, the modules, instances and alias of [`linked`].
    fn link(component: &mut Component, before: u32) {
        component.section(&ModuleSection(&exporting(&["f", "g", "h"])));
        component.section(&ModuleSection(&importing("lib", "f")));
        let mut instances = InstanceSection::new();
        instances.instantiate(before, Vec::<(&str, ModuleArg)>::new());
        instances.instantiate(before + 1, [("lib", ModuleArg::Instance(before))]);
        component.section(&instances);
        let mut aliases = ComponentAliasSection::new();
        aliases.alias(Alias::CoreInstanceExport {
            instance: before,
            kind: ExportKind::Func,
            name: "g",
        });
        component.section(&aliases);
    }

    /// The export names of each core module of the component `bytes`.
    fn exports_of(bytes: &[u8]) -> Vec<Vec<String>> {
        let mut found = Vec::new();
        for payload in Parser::new(0).parse_all(bytes) {
            match payload.unwrap() {
                Payload::ModuleSection { .. } => found.push(Vec::new()),
                Payload::ExportSection(section) => {
                    let names = section.into_iter().map(|e| e.unwrap().name.to_string());
                    found.last_mut().unwrap().extend(names);
                }
                _ => {}
            }
        }
        found
    }

    /// `bytes` without the exports no one reaches.
    fn lean(bytes: &[u8]) -> Vec<u8> {
        unreachable_exports(bytes, Path::new("test.wasm")).unwrap()
    }

    #[test]
    fn only_the_exports_an_alias_or_an_import_reaches_are_kept() {
        let bytes = linked().finish();
        assert_eq!(exports_of(&bytes), [vec!["f", "g", "h"], vec![]]);
        let leaner = lean(&bytes);
        assert_eq!(exports_of(&leaner), [vec!["f", "g"], vec![]]);
        wasmparser::Validator::new().validate_all(&leaner).unwrap();
        // Done again, nothing more goes.
        assert_eq!(lean(&leaner), leaner);
    }

    #[test]
    fn a_nested_components_modules_are_neither_counted_nor_changed() {
        let mut nested = Component::new();
        nested.section(&ModuleSection(&exporting(&["x", "y"])));
        let mut component = Component::new();
        component.section(&wasm_encoder::NestedComponentSection(&nested));
        link(&mut component, 0);
        let bytes = component.finish();
        wasmparser::Validator::new().validate_all(&bytes).unwrap();
        let leaner = lean(&bytes);
        assert_eq!(
            exports_of(&leaner),
            [vec!["x", "y"], vec!["f", "g"], vec![]]
        );
    }

    #[test]
    fn a_core_module_handed_elsewhere_keeps_every_export() {
        let mut component = linked();
        let mut exports = ComponentExportSection::new();
        exports.export("library", ComponentExportKind::Module, 0, None);
        component.section(&exports);
        let bytes = component.finish();
        assert_eq!(lean(&bytes), bytes);
        // Made an export of a component instance.
        let mut component = linked();
        let mut instances = wasm_encoder::ComponentInstanceSection::new();
        instances.export_items([("library", ComponentExportKind::Module, 0)]);
        component.section(&instances);
        let bytes = component.finish();
        assert_eq!(lean(&bytes), bytes);
        // A core module on its own is not a component: kept as it is.
        let module = exporting(&["f"]).finish();
        assert_eq!(lean(&module), module);
    }

    #[test]
    fn a_malformed_component_is_an_error_naming_it() {
        let bytes = linked().finish();
        let error = unreachable_exports(&bytes[..bytes.len() - 3], Path::new("cut.wasm"));
        let message = error.unwrap_err().to_string();
        assert!(
            message.starts_with("cut.wasm: cannot leave out"),
            "{message}"
        );
    }
}
