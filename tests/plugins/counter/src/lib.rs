//! Declares the service named by its configuration key `service`; when
//! the service starts, it adds 1 to the variable `counted` `times` times
//! (its key `times`) and appends its service's name to `started`.

use precept_guest::prelude::*;

#[derive(Default)]
struct Counter;

impl Plugin for Counter {
    fn setup(&mut self) -> Result<(), String> {
        config::declare("service", "The service's name", "counter");
        config::declare("times", "How many additions", 1i64);
        let service: String = config::get("service").unwrap_or_default();
        services::add(&service);
        Ok(())
    }

    fn service_start(&mut self, name: &str) -> Result<(), String> {
        let times: i64 = config::get("times").unwrap_or(1);
        for _ in 0..times {
            app::add_var("counted", 1)?;
        }
        app::append_var("started", name)?;
        Ok(())
    }
}

precept_guest::export!(Counter);
