//! `precept-build DIR [-o FILE]`: builds the plugin in DIR into a component.

use std::path::PathBuf;
use std::process::ExitCode;

use precept_build::Builder;

const USAGE: &str = "usage: precept-build DIR [-o FILE.wasm] [--wit DIR]

Builds the precept plugin in DIR (Rust, C, Python or JavaScript) into one
component of precept:plugin@0.2.0 (--wit DIR: another WIT package);
FILE defaults to target/plugins/NAME.wasm, NAME being DIR's name.
DIR/precept.toml, when there, says who the plugin is ([plugin]) and what
it needs ([[dir]], [[env]], [[net]]); it is written into the component.";

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
    let mut args = std::env::args_os().skip(1);
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
