//! `countdown`, a small application built on precept: its own command, a
//! native service and a native subscriber, extended by the WebAssembly
//! plugins its configuration file (`countdown.toml`, or `-c FILE`) or its
//! command line (`--plugin`, `--plugin-dir`) names, with the grants and
//! limits given there, compiled once into the user's cache.
//!
//! `countdown --plugin recorder.wasm count --from 3` dispatches `send`
//! with `data = "T-3"`, `"T-2"`, `"T-1"`, then `liftoff`; the native `clock`
//! service times the run, the native subscriber prints each `send`, and a
//! plugin service such as `recorder` records them.

use std::time::Instant;

use clap::{Arg, Command};
use precept::services::ServiceError;
use precept::{App, Context, Flow, Service, async_trait, payload};

/// The application, ready for plugins.
pub fn build() -> Result<App, precept::Error> {
    let mut app = App::new("countdown", "1.0.0")?;
    app.about("Count down, with plugins listening")
        .cache_dir(precept::compile::default_cache_dir())
        .config_file("countdown.toml")?
        .plugin_flags()?
        .installed_plugins()?;
    let count = Command::new("count").about("Count down to liftoff").arg(
        Arg::new("from")
            .long("from")
            .value_parser(clap::value_parser!(i64))
            .default_value("3"),
    );
    app.command(count, |ctx: Context| async move {
        let from = *ctx.matches.get_one::<i64>("from").expect("has a default");
        for n in (1..=from).rev() {
            ctx.events
                .dispatch("send", payload([("data", format!("T-{n}"))]))
                .await;
        }
        ctx.events
            .dispatch("liftoff", payload([("from", from)]))
            .await;
        Ok(())
    })?;
    app.service(Clock::default())?;
    app.events().subscribe("send", |event| async move {
        if let Some(data) = event.get::<String>("data") {
            println!("countdown: {data}");
        }
        Flow::Continue
    });
    Ok(app)
}

/// A native service that reports how long the application ran.
#[derive(Default)]
pub struct Clock {
    started: Option<Instant>,
}

#[async_trait]
impl Service for Clock {
    fn name(&self) -> &str {
        "clock"
    }

    async fn start(&mut self) -> Result<(), ServiceError> {
        self.started = Some(Instant::now());
        Ok(())
    }

    async fn stop(&mut self) -> Result<(), ServiceError> {
        let elapsed = self.started.take().map(|t| t.elapsed()).unwrap_or_default();
        println!("countdown: ran for {} ms", elapsed.as_millis());
        Ok(())
    }
}
