//! `lines [--plugin PATH]... [-c FILE] < INPUT`: a line filter whose plugins
//! rewrite or drop the lines of its standard input. It never calls
//! `start`: it loads its plugins, drives its services by hand and
//! dispatches one event per line for as long as its input lasts.
//!
//! Each line is the variable `line` while the event `line` (payload:
//! `number`, from 1) is dispatched; a plugin rewrites the line by setting
//! the variable, and drops it by stopping the event. The native `tally`
//! service counts what was kept and dropped, and says so on standard error
//! when it stops.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use precept::services::ServiceError;
use precept::{App, ExitStatus, Flow, Service, Value, async_trait, payload};

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    precept::logging::install();
    let mut app = App::new("lines", env!("CARGO_PKG_VERSION"))?;
    app.about("Filter standard input through plugins, line by line")
        .cache_dir(precept::compile::default_cache_dir())
        .config_file("lines.toml")?
        .plugin_flags()?;
    let tally = Tally::default();
    let (kept, dropped) = (tally.kept.clone(), tally.dropped.clone());
    app.service(tally)?;

    let args: Vec<_> = std::env::args_os().collect();
    if let Err(status) = app.load(&args).await {
        return Ok(status.into());
    }
    // Plugin flags are all this program takes; `--help` and mistakes are
    // answered as clap answers them.
    if let Err(error) = app.command_line().try_get_matches_from(&args) {
        let _ = error.print();
        let status = match error.use_stderr() {
            true => ExitStatus::Usage,
            false => ExitStatus::Success,
        };
        return Ok(status.into());
    }

    // Subscribed after every plugin: reached only when no plugin stopped
    // the line.
    let reached = Arc::new(AtomicBool::new(false));
    let last = reached.clone();
    app.events().subscribe("line", move |_| {
        last.store(true, Ordering::Release);
        async { Flow::Continue }
    });

    let mut status = ExitStatus::Success;
    let started = async {
        app.setup_services().await?;
        app.start_services().await
    };
    if let Err(failures) = started.await {
        failures.iter().for_each(|f| f.report());
        status = ExitStatus::ServiceFailed;
    } else {
        let mut out = std::io::stdout().lock();
        for (at, line) in std::io::stdin().lock().lines().enumerate() {
            let line = line?;
            app.vars().set("line", line);
            reached.store(false, Ordering::Release);
            let number = i64::try_from(at + 1).unwrap_or(i64::MAX);
            app.events()
                .dispatch("line", payload([("number", number)]))
                .await;
            if !reached.load(Ordering::Acquire) {
                dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            kept.fetch_add(1, Ordering::Relaxed);
            if let Some(Value::Text(text)) = app.vars().get("line") {
                writeln!(out, "{text}")?;
            }
        }
        out.flush()?;
    }
    for failure in app.shutdown().await {
        failure.report();
        status = status.max(ExitStatus::ServiceFailed);
    }
    Ok(status.max(app.exit_status()).into())
}

/// Counts the lines kept and dropped, and reports them when it stops.
#[derive(Default)]
struct Tally {
    kept: Arc<AtomicU64>,
    dropped: Arc<AtomicU64>,
}

#[async_trait]
impl Service for Tally {
    fn name(&self) -> &str {
        "tally"
    }

    async fn stop(&mut self) -> Result<(), ServiceError> {
        let (kept, dropped) = (
            self.kept.load(Ordering::Relaxed),
            self.dropped.load(Ordering::Relaxed),
        );
        eprintln!("lines: {kept} kept, {dropped} dropped");
        Ok(())
    }
}
