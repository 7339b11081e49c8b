//! `countdown [--plugin PATH]... count [--from N]`

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    precept::logging::install();
    let mut app = match example_app::build() {
        Ok(app) => app,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let args: Vec<_> = std::env::args_os().collect();
    let plugins = precept::runner::HostOptions::read(app.command_line(), &args).plugins;
    app.load_plugins(plugins).await;
    app.start(args).await.into()
}
