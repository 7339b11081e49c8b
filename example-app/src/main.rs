//! `countdown [-c FILE] [--plugin PATH]... count [--from N]`

use std::process::ExitCode;

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    precept::logging::install();
    let mut app = example_app::build()?;
    Ok(app.start(std::env::args_os()).await.into())
}
