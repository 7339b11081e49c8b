//! The service `ticker`: when it starts, it sets an interval of `every`
//! milliseconds (its configuration key) dispatching `tick`; each `tick` it
//! receives adds 1 to the variable `ticks` and records in `running`
//! whether its service runs. `stop-ticking` cancels the interval; `once`
//! sets a timeout of `every` that dispatches `tick` once. With `storm` set,
//! the start instead sets as many 0 ms intervals as it may: `timers_set`
//! counts them and `timer_refusal` holds the refusal. With `trap_at`, the
//! tick that brings `ticks` to it traps. With `churn`, the start sets and
//! at once cancels a timeout again and again, counting in `timers_set`
//! until it is refused.

use std::time::Duration;

use precept_guest::prelude::*;
use precept_guest::timers::TimerId;

#[derive(Default)]
struct Ticker {
    interval: Option<TimerId>,
}

fn every() -> Duration {
    Duration::from_millis(config::get::<i64>("every").unwrap_or(100) as u64)
}

impl Plugin for Ticker {
    fn setup(&mut self) -> Result<(), String> {
        config::declare("every", "Milliseconds between ticks", 100i64);
        config::declare("storm", "Set as many 0 ms intervals as allowed", false);
        config::declare("trap_at", "Trap at this many ticks (0: never)", 0i64);
        config::declare("churn", "Set and cancel timeouts until refused", false);
        services::add("ticker");
        events::subscribe("tick");
        events::subscribe("stop-ticking");
        events::subscribe("once");
        Ok(())
    }

    fn service_start(&mut self, _name: &str) -> Result<(), String> {
        if config::get::<bool>("churn").unwrap_or(false) {
            let big = "x".repeat(64 << 10);
            for _ in 0..10_000 {
                match timers::after(Duration::ZERO, "tick", [("big", big.as_str())]) {
                    Ok(id) => {
                        timers::cancel(id);
                        app::add_var("timers_set", 1)?;
                    }
                    Err(refusal) => {
                        app::set_var("timer_refusal", refusal);
                        break;
                    }
                }
            }
        } else if config::get::<bool>("storm").unwrap_or(false) {
            loop {
                match timers::every(Duration::ZERO, "tick", [("storm", true)]) {
                    Ok(_) => {
                        app::add_var("timers_set", 1)?;
                    }
                    Err(refusal) => {
                        app::set_var("timer_refusal", refusal);
                        break;
                    }
                }
            }
        } else {
            self.interval = Some(timers::every(every(), "tick", [("n", 1)])?);
        }
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        match event.name.as_str() {
            "tick" => {
                let ticks = app::add_var("ticks", 1)?;
                if ticks == config::get::<i64>("trap_at").unwrap_or(0) {
                    panic!("trapped at tick {ticks}");
                }
                let running = services::is_running("ticker").unwrap_or(false);
                app::append_var("running", running)?;
            }
            "stop-ticking" => {
                if let Some(id) = self.interval.take() {
                    timers::cancel(id);
                }
            }
            "once" => {
                timers::after(every(), "tick", [("once", true)])?;
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }
}

precept_guest::export!(Ticker);
