//! Imports `precept:plugin/teleport`, which no host provides.

wit_bindgen::generate!({
    inline: "
        package precept:plugin@0.1.0;

        interface teleport {
            go: func(where: string);
        }

        world plugin {
            import teleport;
            export setup: func() -> result<_, string>;
        }
    ",
});

struct Unknown;

impl Guest for Unknown {
    fn setup() -> Result<(), String> {
        precept::plugin::teleport::go("mars");
        Ok(())
    }
}

export!(Unknown);
