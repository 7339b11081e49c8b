//! Runs `precept-run` with the example plugins, showing the CLI lifecycle,
//! plugin-to-plugin events and stop propagation:
//!
//! ```text
//! cargo run -p precept-demo --example demo
//! ```

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let plugins = [
        precept_demo::HELLO,
        precept_demo::PING,
        precept_demo::PONG,
        precept_demo::GUARD,
    ];
    let mut args = vec!["precept-run".to_string()];
    for plugin in plugins {
        args.extend(["--plugin".to_string(), plugin.to_string()]);
    }
    args.extend(["dispatch", "send", "data=secret"].map(String::from));

    let shown: Vec<String> = args
        .iter()
        .map(|arg| match arg.rsplit_once('/') {
            Some((_, file)) if arg.ends_with(".wasm") => file.to_string(),
            _ => arg.clone(),
        })
        .collect();
    println!("$ {}\n", shown.join(" "));

    precept::logging::install();
    // The generic host, as `precept-run` builds it.
    let Ok(mut app) = precept::App::new("precept-run", env!("CARGO_PKG_VERSION")) else {
        return ExitCode::FAILURE;
    };
    let built = app
        .plugin_flags()
        .and_then(|app| app.builtin(precept::Builtin::Dispatch));
    if let Err(error) = built {
        eprintln!("error: {error}");
        return ExitCode::FAILURE;
    }
    app.start(args).await.into()
}
