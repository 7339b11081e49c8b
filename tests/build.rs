//! Builds every test plugin from source for `wasm32-wasip2` and writes
//! `plugins.rs`, which names each component's path as a constant.
//!
//! Plugins are the component crates (`cdylib` or `bin`) in `example-plugins/rust/`,
//! `tests/plugins/`, `tests/hostile/` and `tests/frozen-0.1.0/` (plugins
//! built for `precept:plugin@0.1.0`); a new directory there is picked up
//! without editing any list. The guests are built by a nested `cargo` with its own target
//! directory inside `OUT_DIR` (see `precept_build::guests`).
//!
//! Plugins in other languages, `example-plugins/{c,python,javascript,go}/NAME`,
//! are built by `precept-build` into `NAME-LANGUAGE.wasm`. Their constants
//! are `Result`s: a toolchain that is not installed is an `Err` saying how to
//! install it, for the tests to report.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use precept_build::guests::{self, constant};

const PLUGIN_DIRS: &[&str] = &[
    "example-plugins/rust",
    "tests/plugins",
    "tests/hostile",
    "tests/frozen-0.1.0",
];

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.parent().unwrap().to_path_buf();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap());

    guests::require_target();
    let plugins = discover(&workspace);
    let names: Vec<&str> = plugins.iter().map(|p| p.name.as_str()).collect();
    let built = guests::build(&workspace, &out_dir.join("wasm"), &names);

    let mut code = String::new();
    for (plugin, wasm) in plugins.iter().zip(&built) {
        writeln!(
            code,
            "/// The `{name}` component, built from `{dir}`.\npub const {konst}: &str = {path:?};",
            name = plugin.name,
            dir = plugin.dir.strip_prefix(&workspace).unwrap().display(),
            konst = constant(&plugin.name),
            path = wasm.display().to_string(),
        )
        .unwrap();
    }
    for (name, wasm) in componentize_wat(&workspace, &out_dir) {
        writeln!(
            code,
            "/// The `{name}` component, made from `tests/hostile/{name}.wat`.\npub const {konst}: &str = {path:?};",
            konst = constant(&name),
            path = wasm.display().to_string(),
        )
        .unwrap();
    }
    for (konst, doc, built) in build_other_languages(&workspace, &out_dir) {
        writeln!(
            code,
            "/// {doc}\npub const {konst}: Result<&str, &str> = {built:?};"
        )
        .unwrap();
    }
    let examples: Vec<String> = plugins
        .iter()
        .filter(|p| p.dir.starts_with(workspace.join("example-plugins")))
        .map(|p| format!("({:?}, {})", p.name, constant(&p.name)))
        .collect();
    writeln!(
        code,
        "/// Every example plugin, as `(name, path)`.\npub const EXAMPLES: &[(&str, &str)] = &[{}];",
        examples.join(", ")
    )
    .unwrap();
    fs::write(out_dir.join("plugins.rs"), code).unwrap();

    for dir in PLUGIN_DIRS {
        println!("cargo:rerun-if-changed={}", workspace.join(dir).display());
    }
    println!("cargo:rerun-if-changed={}", workspace.join("wit").display());
}

/// A guest crate to build.
struct Guest {
    name: String,
    dir: PathBuf,
}

/// Every crate directly inside the plugin directories, sorted by name.
fn discover(workspace: &Path) -> Vec<Guest> {
    let mut guests = Vec::new();
    for dir in PLUGIN_DIRS {
        let Ok(entries) = fs::read_dir(workspace.join(dir)) else {
            continue;
        };
        for entry in entries {
            let dir = entry.unwrap().path();
            let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
            // A library crate (the frozen SDK) is not a plugin.
            if !manifest.is_empty() && (manifest.contains("cdylib") || manifest.contains("[[bin]]"))
            {
                let name = dir.file_name().unwrap().to_string_lossy().into_owned();
                println!(
                    "cargo:rerun-if-changed={}",
                    dir.join("Cargo.toml").display()
                );
                guests.push(Guest { name, dir });
            }
        }
    }
    guests.sort_by(|a, b| a.name.cmp(&b.name));
    guests
}

/// Turns every core module written as `tests/hostile/*.wat` into a
/// component of the `precept:plugin` world, for plugins no compiler would
/// produce (e.g. one that grows a table without end).
fn componentize_wat(workspace: &Path, out_dir: &Path) -> Vec<(String, PathBuf)> {
    let mut resolve = wit_parser::Resolve::default();
    // The newest contract, as `precept-build` carries it.
    let package = resolve
        .push_str("plugin.wit", precept_build::WIT)
        .expect("parse the WIT");
    let world = resolve
        .select_world(&[package], Some("plugin"))
        .expect("the plugin world");
    let mut made = Vec::new();
    let mut sources: Vec<PathBuf> = fs::read_dir(workspace.join("tests/hostile"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wat"))
        .collect();
    sources.sort();
    for source in sources {
        println!("cargo:rerun-if-changed={}", source.display());
        let name = source.file_stem().unwrap().to_string_lossy().into_owned();
        let text = fs::read_to_string(&source).unwrap();
        let mut module = wat::parse_str(expand_filler(&text)).expect("valid wat");
        wit_component::embed_component_metadata(
            &mut module,
            &resolve,
            world,
            wit_component::StringEncoding::UTF8,
            false,
        )
        .expect("embed the world");
        let component = wit_component::ComponentEncoder::default()
            .module(&module)
            .and_then(|encoder| encoder.validate(true).encode())
            .unwrap_or_else(|e| panic!("componentize {}: {e:?}", source.display()));
        let path = out_dir.join(format!("{name}.wasm"));
        fs::write(&path, component).unwrap();
        made.push((name, path));
    }
    made
}

/// `text` with each line `;; @filler N` replaced by N small functions of
/// arithmetic: bulk for the compiler, never called.
fn expand_filler(text: &str) -> String {
    let mut expanded = String::new();
    for line in text.lines() {
        let Some(count) = line.trim().strip_prefix(";; @filler ") else {
            expanded.push_str(line);
            expanded.push('\n');
            continue;
        };
        let count: u32 = count.parse().expect("a count of functions");
        for n in 0..count {
            expanded.push_str("  (func (param i32) (result i32) (local.get 0)");
            for k in 0..16 {
                write!(
                    expanded,
                    " (i32.const {}) (i32.add) (i32.const 3) (i32.mul)",
                    n + k
                )
                .unwrap();
            }
            expanded.push_str(")\n");
        }
    }
    expanded
}

/// Builds every plugin in `example-plugins/{c,python,javascript,go}/`, the
/// languages side by side, as `(constant, doc line, component or why not)`.
fn build_other_languages(
    workspace: &Path,
    out_dir: &Path,
) -> Vec<(String, String, Result<String, String>)> {
    let mut plugins = Vec::new();
    // Rust plugins are the crates built above; every other language has a
    // directory named after it.
    let others = precept_build::Language::ALL
        .into_iter()
        .filter(|language| *language != precept_build::Language::Rust)
        .map(precept_build::Language::name);
    for language in others {
        let Ok(entries) = fs::read_dir(workspace.join("example-plugins").join(language)) else {
            continue;
        };
        for entry in entries {
            let dir = entry.unwrap().path();
            // Cargo scans a directory for changes to any file in it.
            println!("cargo:rerun-if-changed={}", dir.display());
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            plugins.push((format!("{name}-{language}"), dir));
        }
    }
    plugins.sort();
    // In CI, Go plugins and the Go SDK are `go vet`-checked as they are
    // built (with the pinned Go; a newer one's vet may know more).
    println!("cargo:rerun-if-env-changed=CI");
    let builder = precept_build::Builder::new().vet(std::env::var_os("CI").is_some());
    println!("cargo:rerun-if-env-changed=PATH");
    std::thread::scope(|scope| {
        let builds: Vec<_> = plugins
            .iter()
            .map(|(name, dir)| {
                let out = out_dir.join("polyglot").join(format!("{name}.wasm"));
                let builder = &builder;
                scope.spawn(move || (builder.build(dir, &out), out))
            })
            .collect();
        plugins
            .iter()
            .zip(builds)
            .map(|((name, dir), build)| {
                let (result, out) = build.join().unwrap();
                let built = match result {
                    Ok(_) => Ok(out.display().to_string()),
                    Err(error @ precept_build::BuildError::MissingTool { .. }) => {
                        println!("cargo:warning={name} not built: {error}");
                        watch_path_for_new_tools();
                        Err(format!("{name} not built: {error}"))
                    }
                    Err(error) => panic!("building {}: {error}", dir.display()),
                };
                let konst = constant(name);
                let doc = format!(
                    "The `{name}` component, built from `{}`.",
                    dir.strip_prefix(workspace).unwrap().display()
                );
                (konst, doc, built)
            })
            .collect()
    })
}

/// Asks cargo to rerun this script when a program is added to a directory
/// on `PATH`, so that a toolchain installed after this build (by
/// `.ci/toolchains`) is picked up by the next one.
fn watch_path_for_new_tools() {
    let path = env::var_os("PATH").unwrap_or_default();
    for dir in env::split_paths(&path).filter(|dir| dir.is_dir()) {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
}
