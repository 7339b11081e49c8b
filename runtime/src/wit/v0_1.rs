//! `precept:plugin@0.1.0`: host bindings generated from `wit/`, the one
//! source of the contract for hosts and guests alike, and the conversions
//! between its types and precept's own.

/// The generated bindings.
mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "plugin",
        imports: { default: trappable },
        exports: { default: async },
        additional_derives: [PartialEq],
    });
}

pub(crate) use bindings::{Plugin, PluginPre, precept};

pub(crate) use self::precept::plugin::types::Event as WitEvent;
use self::precept::plugin::types::{Scalar as WitScalar, Value as WitValue};

use crate::events::Event;
use crate::value::{Payload, Scalar, Value};

/// The version of the `precept:plugin` package this module binds.
pub const WORLD_VERSION: &str = "0.1.0";

impl From<WitScalar> for Scalar {
    fn from(scalar: WitScalar) -> Self {
        match scalar {
            WitScalar::Absent => Scalar::Absent,
            WitScalar::Boolean(b) => Scalar::Boolean(b),
            WitScalar::Integer(i) => Scalar::Integer(i),
            WitScalar::Float(f) => Scalar::Float(f),
            WitScalar::Text(s) => Scalar::Text(s),
        }
    }
}

impl From<WitValue> for Value {
    fn from(value: WitValue) -> Self {
        match value {
            WitValue::Absent => Value::Absent,
            WitValue::Boolean(b) => Value::Boolean(b),
            WitValue::Integer(i) => Value::Integer(i),
            WitValue::Float(f) => Value::Float(f),
            WitValue::Text(s) => Value::Text(s),
            WitValue::List(items) => Value::List(items.into_iter().map(Scalar::from).collect()),
            WitValue::Json(json) => Value::Json(json),
        }
    }
}

impl From<Scalar> for WitScalar {
    fn from(scalar: Scalar) -> Self {
        match scalar {
            Scalar::Absent => WitScalar::Absent,
            Scalar::Boolean(b) => WitScalar::Boolean(b),
            Scalar::Integer(i) => WitScalar::Integer(i),
            Scalar::Float(f) => WitScalar::Float(f),
            Scalar::Text(s) => WitScalar::Text(s),
        }
    }
}

impl From<Value> for WitValue {
    fn from(value: Value) -> Self {
        match value {
            Value::Absent => WitValue::Absent,
            Value::Boolean(b) => WitValue::Boolean(b),
            Value::Integer(i) => WitValue::Integer(i),
            Value::Float(f) => WitValue::Float(f),
            Value::Text(s) => WitValue::Text(s),
            Value::List(items) => WitValue::List(items.into_iter().map(WitScalar::from).collect()),
            Value::Json(json) => WitValue::Json(json),
        }
    }
}

impl From<&Value> for WitValue {
    /// A copy: as costly as cloning the value.
    fn from(value: &Value) -> Self {
        WitValue::from(value.clone())
    }
}

/// A payload a plugin gave, as precept's own.
pub(crate) fn payload_from_wit(payload: Vec<(String, WitValue)>) -> Payload {
    payload
        .into_iter()
        .map(|(name, value)| (name, value.into()))
        .collect()
}

/// A payload as this version's plugins receive it.
pub(crate) fn payload_to_wit(payload: &[(String, Value)]) -> Vec<(String, WitValue)> {
    payload
        .iter()
        .map(|(name, value)| (name.clone(), value.into()))
        .collect()
}

/// An event as this version's plugins receive it.
pub(crate) fn event_to_wit(event: &Event) -> WitEvent {
    WitEvent {
        name: event.name.to_string(),
        payload: payload_to_wit(&event.payload),
        num: event.num,
        timestamp: event.timestamp,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_version_constant_matches_the_wit_package() {
        let wit = include_str!("../../../wit/plugin.wit");
        let package = format!("package precept:plugin@{};", super::WORLD_VERSION);
        assert!(
            wit.contains(&package),
            "wit/plugin.wit does not declare {package}"
        );
    }

    #[test]
    fn the_guest_sdk_carries_the_same_wit() {
        // `precept-guest` is packaged on its own, so it keeps a copy of the
        // contract inside its crate: it must not drift from `wit/`.
        assert!(
            include_str!("../../../guest-sdk/wit/plugin.wit")
                == include_str!("../../../wit/plugin.wit"),
            "guest-sdk/wit/plugin.wit differs from wit/plugin.wit: copy wit/plugin.wit over it"
        );
    }
}
