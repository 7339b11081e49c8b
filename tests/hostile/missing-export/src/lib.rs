//! Exports `setup` only: `on-event` and the rest of the world are missing.

wit_bindgen::generate!({
    inline: "
        package precept:plugin@0.1.0;

        world plugin {
            export setup: func() -> result<_, string>;
        }
    ",
});

struct Partial;

impl Guest for Partial {
    fn setup() -> Result<(), String> {
        Ok(())
    }
}

export!(Partial);
