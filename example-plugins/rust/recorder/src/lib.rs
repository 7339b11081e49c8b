//! The service `recorder`: while it runs, it records the `data` of every
//! `send` event, and lists them when it stops (also in the variable
//! `recorded`). Try `precept-run --plugin recorder.wasm dispatch send data=hi`.

use precept_guest::prelude::*;

#[derive(Default)]
struct Recorder {
    running: bool,
    recorded: Vec<String>,
}

impl Plugin for Recorder {
    fn setup(&mut self) -> Result<(), String> {
        services::add("recorder");
        Ok(())
    }

    fn service_setup(&mut self, _name: &str) -> Result<(), String> {
        events::subscribe("send");
        Ok(())
    }

    fn service_start(&mut self, _name: &str) -> Result<(), String> {
        self.running = true;
        println!("recorder: started");
        Ok(())
    }

    fn service_stop(&mut self, _name: &str) -> Result<(), String> {
        self.running = false;
        println!("recorder: stopped, recorded {:?}", self.recorded);
        app::set_var("recorded", self.recorded.clone());
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        if self.running {
            let data = event.get::<String>("data").unwrap_or_default();
            self.recorded.push(data);
        }
        Ok(Flow::Continue)
    }
}

precept_guest::export!(Recorder);
