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
pub mod capabilities;
pub mod commands;
pub mod config;
pub mod events;
pub mod http;
pub mod lifecycle;
pub mod log;
pub mod services;
pub mod timers;

#[doc(hidden)]
pub mod manifest;

pub use value::{FromScalar, FromValue, Payload, Scalar, Value, payload};

/// Everything a plugin usually needs, in one `use`.
pub mod prelude {
    pub use crate::commands::{self, Arg, Command};
    pub use crate::{
        Args, Event, Flow, Plugin, Value, app, capabilities, config, events, http, lifecycle, log,
        services, timers,
    };
}

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

    /// Sets up the service `name` (declared with [`services::add`]) before
    /// the command runs.
    fn service_setup(&mut self, name: &str) -> Result<(), String> {
        let _ = name;
        Ok(())
    }

    /// Starts the service `name`. Return promptly: the service then reacts
    /// to events.
    fn service_start(&mut self, name: &str) -> Result<(), String> {
        let _ = name;
        Ok(())
    }

    /// Stops the service `name` after the command.
    fn service_stop(&mut self, name: &str) -> Result<(), String> {
        let _ = name;
        Ok(())
    }

    /// Runs the command `name` (added with [`commands::add`]) with its
    /// parsed arguments.
    fn run_command(&mut self, name: &str, args: &Args) -> Result<(), String> {
        let _ = args;
        Err(format!("this plugin has no command '{name}'"))
    }
}

/// The parsed arguments of a command, by argument name.
#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    /// The values, typed as the command declared them.
    pub values: Payload,
}

impl Args {
    /// The argument `name`, converted to `T`; `None` when it was not given
    /// (and has no default) or is of another type.
    pub fn get<T: FromValue>(&self, name: &str) -> Option<T> {
        value::lookup(&self.values, name).and_then(T::from_value)
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
///
/// A plugin that keeps no state of its own may be two functions instead:
/// `export!(fn setup, fn on_event)`, with `fn setup() -> Result<(), String>`
/// and `fn on_event(event: &Event) -> Result<Flow, String>`.
///
/// It also writes who the plugin is into the component, from the crate's
/// `Cargo.toml`: its package name (the plugin's name), version,
/// description, authors, licence, homepage and repository, readable
/// without running the plugin (`precept-run inspect` shows them).
#[macro_export]
macro_rules! export {
    (fn $setup:path, fn $on_event:path $(,)?) => {
        const _: () = {
            #[derive(Default)]
            struct PreceptFunctions;

            impl $crate::Plugin for PreceptFunctions {
                fn setup(&mut self) -> ::core::result::Result<(), ::std::string::String> {
                    $setup()
                }

                fn on_event(
                    &mut self,
                    event: &$crate::Event,
                ) -> ::core::result::Result<$crate::Flow, ::std::string::String> {
                    $on_event(event)
                }
            }

            $crate::export!(PreceptFunctions);
        };
    };
    ($plugin:ty) => {
        $crate::__identity!();

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

                fn service_setup(
                    name: ::std::string::String,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::with_plugin(|p| p.service_setup(&name))
                }

                fn service_start(
                    name: ::std::string::String,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::with_plugin(|p| p.service_start(&name))
                }

                fn service_stop(
                    name: ::std::string::String,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::with_plugin(|p| p.service_stop(&name))
                }

                fn run_command(
                    name: ::std::string::String,
                    args: $crate::Payload,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    let args = $crate::Args { values: args };
                    $crate::__private::with_plugin(|p| p.run_command(&name, &args))
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
        with_plugin(|plugin| plugin.on_event(&event).map(|flow| flow == Flow::Stop))
    }

    /// Runs `call` with the installed plugin.
    pub fn with_plugin<T>(
        call: impl FnOnce(&mut dyn Plugin) -> Result<T, String>,
    ) -> Result<T, String> {
        PLUGIN.with(|slot| match slot.borrow_mut().as_mut() {
            Some(plugin) => call(plugin.as_mut()),
            None => Err("called before setup".to_string()),
        })
    }
}

#[allow(missing_docs, clippy::all)]
mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_world",
        default_bindings_module: "precept_guest::__private::bindings",
        runtime_path: "precept_guest::__private::wit_bindgen::rt",
        additional_derives: [PartialEq],
    });
}
