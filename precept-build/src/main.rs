//! `precept-build DIR [-o FILE]`: builds the plugin in DIR into a component.

use std::path::PathBuf;
use std::process::ExitCode;

use precept_build::{Builder, Language};

const USAGE: &str = "usage: precept-build DIR [-o FILE.wasm] [--wit DIR] [--vet] [--debug-info]
       precept-build new NAME --lang rust|c|python|javascript|go
       precept-build publish DIR|FILE REGISTRY/REPOSITORY:TAG [--wit DIR]

Builds the precept plugin in DIR (Rust, C, Python, JavaScript or Go) into one
component of the precept:plugin WIT package it carries (--wit DIR: another);
FILE defaults to target/plugins/NAME.wasm, NAME being DIR's name.
--vet also checks a Go plugin and the Go SDK with `go vet`.
--debug-info keeps a plugin's debug information: the DWARF and function names
of its core modules, in every language (without it, neither). Exports of
core modules that nothing in the component reaches are always left out.
DIR/plugin.toml, when there, says who the plugin is ([plugin]) and what
it needs ([[dir]], [[env]], [[net]], [data]); it is written into the component.
`new` writes a ready plugin directory NAME on its language's SDK, with a
README saying how to build and run it.
`publish` pushes a component (building DIR first) to an OCI registry as a
wasm artifact, annotated from its metadata; credentials from Docker's
config.json ($DOCKER_CONFIG), or PRECEPT_REGISTRY_USERNAME and
PRECEPT_REGISTRY_PASSWORD for the one registry PRECEPT_REGISTRY_HOST names.";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let all: Vec<_> = std::env::args_os().skip(1).collect();
    if all.first().and_then(|a| a.to_str()) == Some("new") {
        return new(&all[1..]);
    }
    #[cfg(feature = "publish")]
    if all.first().and_then(|a| a.to_str()) == Some("publish") {
        return publish(&all[1..]);
    }
    let mut args = all.into_iter();
    let (mut dir, mut out, mut builder) = (None, None, Builder::new());
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("-o" | "--out") => out = args.next().map(PathBuf::from),
            Some("--wit") => {
                let wit = args
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--wit needs a DIR"))?;
                builder = builder.wit_dir(wit);
            }
            Some("--vet") => builder = builder.vet(true),
            Some("--debug-info") => builder = builder.debug_info(true),
            Some("-h" | "--help") => {
                println!("{USAGE}");
                return Ok(());
            }
            _ if dir.is_none() => dir = Some(PathBuf::from(arg)),
            _ => anyhow::bail!("unexpected argument {arg:?}\n{USAGE}"),
        }
    }
    let dir = dir.ok_or_else(|| anyhow::anyhow!("{USAGE}"))?;
    let name = dir
        .canonicalize()?
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plugin".into());
    let out = out.unwrap_or_else(|| PathBuf::from(format!("target/plugins/{name}.wasm")));
    let language = builder.build(&dir, &out)?;
    eprintln!("built {} ({} plugin)", out.display(), language.name());
    Ok(())
}

/// `publish DIR|FILE REFERENCE [--wit DIR]`: builds DIR if it is one, and
/// pushes the component.
#[cfg(feature = "publish")]
fn publish(args: &[std::ffi::OsString]) -> anyhow::Result<()> {
    let (mut positional, mut builder) = (Vec::new(), Builder::new());
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg.to_str() == Some("--wit") {
            let wit = args
                .next()
                .ok_or_else(|| anyhow::anyhow!("--wit needs a DIR"))?;
            builder = builder.wit_dir(wit);
        } else {
            positional.push(arg);
        }
    }
    let [what, reference] = positional.as_slice() else {
        anyhow::bail!("{USAGE}");
    };
    let reference = reference
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the reference is not UTF-8"))?;
    let out_dir = std::path::Path::new("target/plugins");
    let pinned =
        precept_build::publish::publish(std::path::Path::new(what), reference, &builder, out_dir)?;
    eprintln!("published {reference}\n  pinned: {pinned}");
    Ok(())
}

/// `new NAME --lang LANGUAGE`: writes the template into `./NAME`.
fn new(args: &[std::ffi::OsString]) -> anyhow::Result<()> {
    let args: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    let (name, language) = match args.as_slice() {
        [name, "--lang", language] | ["--lang", language, name] => (*name, *language),
        _ => anyhow::bail!("{USAGE}"),
    };
    let language = Language::named(language).ok_or_else(|| {
        anyhow::anyhow!("unknown language '{language}': rust, c, python, javascript or go")
    })?;
    let dir = precept_build::template::new_plugin(std::path::Path::new("."), name, language)?;
    eprintln!(
        "wrote {} ({} plugin); see {}/README.md",
        dir.display(),
        language.name(),
        dir.display()
    );
    Ok(())
}
