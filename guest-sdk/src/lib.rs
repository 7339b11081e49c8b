//! Write precept plugins in Rust.
//!
//! A plugin is a type that implements [`Plugin`] and [`Default`], exported
//! with [`export!`]; it talks to the application through [`events`], [`app`]
//! and [`log`]. Build it for `wasm32-wasip2` and load the resulting `.wasm`
//! file with `precept-run --plugin`.
//!
//! ```ignore
//! use precept_guest::{Event, Flow, Plugin, events};
//!
//! #[derive(Default)]
//! struct Hello;
//!
//! impl Plugin for Hello {
//!     fn setup(&mut self) -> Result<(), String> {
//!         events::subscribe("cli_started");
//!         Ok(())
//!     }
//!
//!     fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
//!         println!("hello from {}", event.name);
//!         Ok(Flow::Continue)
//!     }
//! }
//!
//! precept_guest::export!(Hello);
//! ```

#![warn(missing_docs)]

extern crate self as precept_guest;

mod value;

pub mod app;
pub mod events;
pub mod log;

pub use value::{FromScalar, FromValue, Payload, Scalar, Value, payload};

/// The event a subscriber receives: name, payload, position and time.
pub use bindings::precept::plugin::types::Event;

/// Whether an event goes on to its later subscribers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flow {
    /// Let later subscribers receive the event.
    #[default]
    Continue,
    /// Stop here: later subscribers do not receive the event.
    Stop,
}

/// A precept plugin. Every method has a default, so a plugin implements only
/// what it uses; its state lives in its own fields.
pub trait Plugin: 'static {
    /// Called once when the application loads the plugin: subscribe to
    /// events and set variables here. An error stops the plugin from loading.
    fn setup(&mut self) -> Result<(), String> {
        Ok(())
    }

    /// Called for each event the plugin subscribed to.
    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        let _ = event;
        Ok(Flow::Continue)
    }
}

impl Event {
    /// The payload value named `key`, converted to `T`; `None` when it is
    /// missing or of another type.
    pub fn get<T: FromValue>(&self, key: &str) -> Option<T> {
        self.value(key).and_then(T::from_value)
    }

    /// The raw payload value named `key`.
    pub fn value(&self, key: &str) -> Option<&Value> {
        value::lookup(&self.payload, key)
    }
}

/// Export `$plugin` (a type implementing [`Plugin`] and [`Default`]) as this
/// component's precept plugin. Use it once per plugin crate.
#[macro_export]
macro_rules! export {
    ($plugin:ty) => {
        const _: () = {
            struct PreceptPluginExport;

            impl $crate::__private::Guest for PreceptPluginExport {
                fn setup() -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::setup(<$plugin as ::core::default::Default>::default())
                }

                fn on_event(
                    event: $crate::Event,
                ) -> ::core::result::Result<bool, ::std::string::String> {
                    $crate::__private::on_event(event)
                }
            }

            $crate::__private::export_world!(PreceptPluginExport);
        };
    };
}

#[doc(hidden)]
pub mod __private {
    use std::cell::RefCell;

    pub use crate::bindings::__export_world as export_world;
    pub use crate::bindings::Guest;
    pub use wit_bindgen;

    /// The generated bindings, where the export macro looks for its types.
    pub mod bindings {
        pub use crate::bindings::*;
    }

    use crate::{Event, Flow, Plugin};

    thread_local! {
        static PLUGIN: RefCell<Option<Box<dyn Plugin>>> = RefCell::new(None);
    }

    /// Installs `plugin` as this component's plugin and runs its setup.
    pub fn setup(plugin: impl Plugin) -> Result<(), String> {
        PLUGIN.with(|slot| {
            let mut slot = slot.borrow_mut();
            slot.insert(Box::new(plugin)).setup()
        })
    }

    /// Hands `event` to the installed plugin.
    pub fn on_event(event: Event) -> Result<bool, String> {
        PLUGIN.with(|slot| match slot.borrow_mut().as_mut() {
            Some(plugin) => plugin.on_event(&event).map(|flow| flow == Flow::Stop),
            None => Err("on-event called before setup".to_string()),
        })
    }
}

#[allow(missing_docs, clippy::all)]
mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_world",
        default_bindings_module: "precept_guest::__private::bindings",
        runtime_path: "precept_guest::__private::wit_bindgen::rt",
    });
}
