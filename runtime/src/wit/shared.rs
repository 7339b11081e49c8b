//! What every `precept:plugin` version shares with 0.1.0: the conversions
//! of its types to precept's own and the host side of its interfaces,
//! written once and expanded into each version's module, where they name
//! that version's generated types.

/// Expands, inside a version's module beside its `bindings`, the
/// conversions and host implementations of the interfaces 0.1.0 defined;
/// `services: { ... }` and `app: { ... }` add the functions a later version
/// added to those interfaces.
macro_rules! since_0_1 {
    ($(services: { $($services:tt)* },)? $(app: { $($app:tt)* })?) => {
        use self::bindings::precept::plugin::{
            app, commands, config, events, log, services, types,
        };
        use crate::model::command_spec::{ArgSpec, ArgStyle, CommandSpec, ValueKind};
        use crate::host::HostState;
        use crate::io::logging::Level;
        use crate::model::value::{Payload, Scalar, Value};

        impl From<types::Scalar> for Scalar {
            fn from(scalar: types::Scalar) -> Self {
                match scalar {
                    types::Scalar::Absent => Scalar::Absent,
                    types::Scalar::Boolean(b) => Scalar::Boolean(b),
                    types::Scalar::Integer(i) => Scalar::Integer(i),
                    types::Scalar::Float(f) => Scalar::Float(f),
                    types::Scalar::Text(s) => Scalar::Text(s),
                }
            }
        }

        impl From<types::Value> for Value {
            fn from(value: types::Value) -> Self {
                match value {
                    types::Value::Absent => Value::Absent,
                    types::Value::Boolean(b) => Value::Boolean(b),
                    types::Value::Integer(i) => Value::Integer(i),
                    types::Value::Float(f) => Value::Float(f),
                    types::Value::Text(s) => Value::Text(s),
                    types::Value::List(items) => {
                        Value::List(items.into_iter().map(Scalar::from).collect())
                    }
                    types::Value::Json(json) => Value::Json(json),
                }
            }
        }

        impl From<Scalar> for types::Scalar {
            fn from(scalar: Scalar) -> Self {
                match scalar {
                    Scalar::Absent => types::Scalar::Absent,
                    Scalar::Boolean(b) => types::Scalar::Boolean(b),
                    Scalar::Integer(i) => types::Scalar::Integer(i),
                    Scalar::Float(f) => types::Scalar::Float(f),
                    Scalar::Text(s) => types::Scalar::Text(s),
                }
            }
        }

        impl From<Value> for types::Value {
            fn from(value: Value) -> Self {
                match value {
                    Value::Absent => types::Value::Absent,
                    Value::Boolean(b) => types::Value::Boolean(b),
                    Value::Integer(i) => types::Value::Integer(i),
                    Value::Float(f) => types::Value::Float(f),
                    Value::Text(s) => types::Value::Text(s),
                    Value::List(items) => {
                        types::Value::List(items.into_iter().map(types::Scalar::from).collect())
                    }
                    Value::Json(json) => types::Value::Json(json),
                }
            }
        }

        impl From<&Value> for types::Value {
            /// A copy: as costly as cloning the value.
            fn from(value: &Value) -> Self {
                types::Value::from(value.clone())
            }
        }

        /// A payload a plugin gave, as precept's own.
        fn payload_from_wit(payload: types::Payload) -> Payload {
            payload
                .into_iter()
                .map(|(name, value)| (name, value.into()))
                .collect()
        }

        /// A payload as this version's plugins receive it.
        pub(crate) fn payload_to_wit(payload: &[(String, Value)]) -> types::Payload {
            payload
                .iter()
                .map(|(name, value)| (name.clone(), value.into()))
                .collect()
        }

        impl From<commands::CommandSpec> for CommandSpec {
            fn from(spec: commands::CommandSpec) -> Self {
                CommandSpec {
                    name: spec.name,
                    help: spec.help,
                    args: spec.args.into_iter().map(ArgSpec::from).collect(),
                }
            }
        }

        impl From<commands::ArgSpec> for ArgSpec {
            fn from(arg: commands::ArgSpec) -> Self {
                ArgSpec {
                    name: arg.name,
                    help: arg.help,
                    style: match arg.style {
                        commands::ArgStyle::Flag => ArgStyle::Flag,
                        commands::ArgStyle::Count => ArgStyle::Count,
                        commands::ArgStyle::Option => ArgStyle::Option,
                        commands::ArgStyle::Positional => ArgStyle::Positional,
                    },
                    kind: match arg.kind {
                        commands::ValueKind::Text => ValueKind::Text,
                        commands::ValueKind::Integer => ValueKind::Integer,
                        commands::ValueKind::Float => ValueKind::Float,
                        commands::ValueKind::Boolean => ValueKind::Boolean,
                    },
                    short: arg.short,
                    required: arg.required,
                    repeated: arg.repeated,
                    default: arg.default,
                }
            }
        }

        impl types::Host for HostState {}

        impl events::Host for HostState {
            fn subscribe(&mut self, name: String) -> wasmtime::Result<()> {
                HostState::subscribe(self, name)
            }

            fn unsubscribe(&mut self, name: String) -> wasmtime::Result<()> {
                HostState::unsubscribe(self, name)
            }

            fn dispatch(&mut self, name: String, payload: types::Payload) -> wasmtime::Result<()> {
                HostState::dispatch(self, name, payload_from_wit(payload))
            }
        }

        impl commands::Host for HostState {
            fn add_command(&mut self, spec: commands::CommandSpec) -> wasmtime::Result<()> {
                HostState::add_command(self, spec.into())
            }
        }

        impl services::Host for HostState {
            fn add_service(
                &mut self,
                name: String,
                command: Option<String>,
            ) -> wasmtime::Result<()> {
                HostState::add_service(self, name, command)
            }

            $($($services)*)?
        }

        impl config::Host for HostState {
            fn declare(
                &mut self,
                key: String,
                help: String,
                default: types::Value,
            ) -> wasmtime::Result<()> {
                HostState::declare(self, key, help, default.into())
            }

            fn get(&mut self, key: String) -> wasmtime::Result<Option<types::Value>> {
                Ok(self.config_value(&key).map(types::Value::from))
            }
        }

        impl app::Host for HostState {
            fn prog_name(&mut self) -> wasmtime::Result<String> {
                Ok(HostState::prog_name(self))
            }

            fn version(&mut self) -> wasmtime::Result<String> {
                Ok(self.app_version())
            }

            fn get_var(&mut self, name: String) -> wasmtime::Result<Option<types::Value>> {
                // The variable is a copy already: moved into the WIT type.
                Ok(HostState::get_var(self, &name).map(types::Value::from))
            }

            fn set_var(&mut self, name: String, value: types::Value) -> wasmtime::Result<()> {
                HostState::set_var(self, name, value.into())
            }

            $($($app)*)?
        }

        impl log::Host for HostState {
            fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
                let level = match level {
                    log::Level::Trace => Level::Trace,
                    log::Level::Debug => Level::Debug,
                    log::Level::Info => Level::Info,
                    log::Level::Warn => Level::Warn,
                    log::Level::Error => Level::Error,
                };
                HostState::log(self, level, &message);
                Ok(())
            }
        }
    };
}

pub(crate) use since_0_1;
