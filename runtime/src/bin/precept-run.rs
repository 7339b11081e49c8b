//! `precept-run [--plugin PATH]... [COMMAND] [ARGS]`: run a command-line
//! application made of WebAssembly plugins.

use std::process::ExitCode;

use precept::{App, Builtin};

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    precept::logging::install();
    let mut app = App::new("precept-run", env!("CARGO_PKG_VERSION"))?;
    app.about("Run a command-line application made of WebAssembly plugins")
        .cache_dir(precept::compile::default_cache_dir())
        .data_dir(precept::trust::default_data_dir())
        .config_file("precept.toml")?
        .plugin_flags()?
        .installed_plugins()?;
    let builtins = [
        Builtin::Dispatch,
        Builtin::Inspect,
        Builtin::Check,
        Builtin::Cache,
        Builtin::Completions,
    ];
    for builtin in builtins {
        app.builtin(builtin)?;
    }
    Ok(app.start(std::env::args_os()).await.into())
}
