//! `precept-build new NAME --lang LANGUAGE` writes a plugin that
//! `precept-build` builds and `precept-run` runs as written, in every
//! language. A language whose toolchain is missing shows as ignored with
//! what to install (and fails in CI, where every toolchain must be there).

use std::path::PathBuf;
use std::process::Command;

use libtest_mimic::{Failed, Trial};
use precept_build::{Builder, Language, toolchain};

/// One trial per language.
pub fn trials() -> Vec<Trial> {
    Language::ALL
        .into_iter()
        .map(|language| {
            let name = format!(
                "a_new_{}_plugin_builds_and_runs_as_written",
                language.name()
            );
            match missing_tool(language) {
                Some(install) if std::env::var_os("CI").is_none() => {
                    eprintln!("{name}: ignored, its toolchain is missing: {install}");
                    Trial::test(name, || Ok(())).with_ignored_flag(true)
                }
                _ => Trial::test(name, move || new_builds_and_runs(language)),
            }
        })
        .collect()
}

/// How to install `language`'s tool, when it is not on `PATH`.
fn missing_tool(language: Language) -> Option<String> {
    let (tool, version, install) = match language {
        Language::Rust => return None,
        Language::C => (
            toolchain::CLANG,
            "--version",
            toolchain::CLANG_INSTALL.to_string(),
        ),
        Language::Python => (
            toolchain::COMPONENTIZE_PY,
            "--version",
            toolchain::componentize_py_install(),
        ),
        Language::JavaScript => (
            toolchain::COMPONENTIZE_JS,
            "--version",
            toolchain::componentize_js_install(),
        ),
        Language::Go => (toolchain::GO, "version", toolchain::go_install()),
    };
    let found = Command::new(tool).arg(version).output();
    (!found.is_ok_and(|out| out.status.success())).then_some(install)
}

fn scratch() -> PathBuf {
    std::env::temp_dir().join(format!("precept-template-{}", std::process::id()))
}

fn new_builds_and_runs(language: Language) -> Result<(), Failed> {
    let parent = scratch().join(language.name());
    let _ = std::fs::remove_dir_all(&parent);
    std::fs::create_dir_all(&parent)?;
    let name = format!("greeter-{}", language.name());
    let dir = precept_build::template::new_plugin(&parent, &name, language)?;

    // Rust plugins share one cargo target directory across runs.
    let target = std::env::temp_dir().join("precept-template-target");
    let component = parent.join(format!("{name}.wasm"));
    // In CI, the Go template is `go vet`-clean as written.
    let built = Builder::new()
        .target_dir(target)
        .vet(std::env::var_os("CI").is_some())
        .build(&dir, &component)?;
    assert_eq!(built, language);

    let output = Command::new(env!("CARGO_BIN_EXE_precept-run"))
        .arg("--plugin")
        .arg(&component)
        .args(["dispatch", "greet"])
        .current_dir(&parent)
        .env("HOME", &parent)
        .output()?;
    let _ = std::fs::remove_dir_all(&parent);
    let printed = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || printed != format!("{name}: hello from cli_started\n") {
        return Err(format!("{output:?}").into());
    }
    Ok(())
}
