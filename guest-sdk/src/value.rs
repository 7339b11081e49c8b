//! Payload values and typed access to them.

pub use crate::bindings::precept::plugin::types::{Scalar, Value};

/// Named values, in order: an event's payload.
pub type Payload = Vec<(String, Value)>;

/// Finds the value named `key` in `payload`.
pub(crate) fn lookup<'a>(payload: &'a [(String, Value)], key: &str) -> Option<&'a Value> {
    payload
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value)
}

/// Builds a payload from `(name, value)` pairs.
pub fn payload<K: Into<String>, V: Into<Value>>(
    entries: impl IntoIterator<Item = (K, V)>,
) -> Payload {
    entries
        .into_iter()
        .map(|(key, value)| (key.into(), value.into()))
        .collect()
}

/// A Rust type that can be read out of a [`Value`].
pub trait FromValue: Sized {
    /// Converts `value`, or `None` when it holds another type.
    fn from_value(value: &Value) -> Option<Self>;
}

/// A Rust type that can be read out of one [`Scalar`] of a list.
pub trait FromScalar: Sized {
    /// Converts `scalar`, or `None` when it holds another type.
    fn from_scalar(scalar: &Scalar) -> Option<Self>;
}

impl FromScalar for bool {
    fn from_scalar(scalar: &Scalar) -> Option<Self> {
        match scalar {
            Scalar::Boolean(b) => Some(*b),
            _ => None,
        }
    }
}

impl FromScalar for i64 {
    fn from_scalar(scalar: &Scalar) -> Option<Self> {
        match scalar {
            Scalar::Integer(i) => Some(*i),
            _ => None,
        }
    }
}

impl FromScalar for f64 {
    fn from_scalar(scalar: &Scalar) -> Option<Self> {
        match scalar {
            Scalar::Float(f) => Some(*f),
            Scalar::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }
}

impl FromScalar for String {
    fn from_scalar(scalar: &Scalar) -> Option<Self> {
        match scalar {
            Scalar::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl<T: FromScalar> FromValue for T {
    fn from_value(value: &Value) -> Option<Self> {
        T::from_scalar(&value.as_scalar()?)
    }
}

impl<T: FromScalar> FromValue for Vec<T> {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::List(items) => items.iter().map(T::from_scalar).collect(),
            _ => None,
        }
    }
}

impl Value {
    /// This value as a scalar, or `None` for lists and JSON.
    pub fn as_scalar(&self) -> Option<Scalar> {
        Some(match self {
            Value::Absent => Scalar::Absent,
            Value::Boolean(b) => Scalar::Boolean(*b),
            Value::Integer(i) => Scalar::Integer(*i),
            Value::Float(f) => Scalar::Float(*f),
            Value::Text(s) => Scalar::Text(s.clone()),
            Value::List(_) | Value::Json(_) => return None,
        })
    }

    /// The string inside a `text` value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Boolean(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Integer(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Integer(i.into())
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Self {
        value.map_or(Value::Absent, Into::into)
    }
}

impl From<Vec<String>> for Value {
    fn from(items: Vec<String>) -> Self {
        Value::List(items.into_iter().map(Scalar::Text).collect())
    }
}

impl From<&str> for Scalar {
    fn from(text: &str) -> Self {
        Scalar::Text(text.to_string())
    }
}

impl From<String> for Scalar {
    fn from(text: String) -> Self {
        Scalar::Text(text)
    }
}

impl From<i64> for Scalar {
    fn from(n: i64) -> Self {
        Scalar::Integer(n)
    }
}

impl From<f64> for Scalar {
    fn from(x: f64) -> Self {
        Scalar::Float(x)
    }
}

impl From<bool> for Scalar {
    fn from(b: bool) -> Self {
        Scalar::Boolean(b)
    }
}
