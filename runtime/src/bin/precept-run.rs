//! `precept-run [--plugin PATH]... [COMMAND] [ARGS]`: run a command-line
//! application made of WebAssembly plugins.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PRECEPT_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    precept::runner::run(std::env::args_os()).await.into()
}
