//! Built against `precept:plugin@0.3.0`, which this runtime does not provide.

wit_bindgen::generate!({
    inline: "
        package precept:plugin@0.3.0;

        interface events {
            subscribe: func(name: string);
        }

        world plugin {
            import events;
            export setup: func() -> result<_, string>;
        }
    ",
});

struct Future;

impl Guest for Future {
    fn setup() -> Result<(), String> {
        precept::plugin::events::subscribe("cli_started");
        Ok(())
    }
}

export!(Future);
