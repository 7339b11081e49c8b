//! `precept-run [--plugin PATH]... [COMMAND] [ARGS]`: run a command-line
//! application made of WebAssembly plugins.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    precept::logging::install();
    precept::runner::run(std::env::args_os()).await.into()
}
