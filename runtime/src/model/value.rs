//! Payload values: precept's own types, shared by native code and plugins
//! (each WIT version converts what plugins give at its boundary, see `wit`;
//! events are lowered into plugins as they are), their conversions to and
//! from Rust types, and their sizes.

use std::fmt;

use wasmtime::component::{ComponentType, Lower};

/// One value of a list: what a repeated argument holds. It is lowered into
/// a plugin as it is, as the contract's `scalar` (the same in every version
/// so far): it implements wasmtime's `ComponentType` and `Lower` for that.
#[derive(Debug, Clone, PartialEq, ComponentType, Lower)]
#[component(variant)]
pub enum Scalar {
    /// No value, e.g. an option that was not given.
    #[component(name = "absent")]
    Absent,
    /// A flag.
    #[component(name = "boolean")]
    Boolean(bool),
    /// A signed integer.
    #[component(name = "integer")]
    Integer(i64),
    /// A floating-point number.
    #[component(name = "float")]
    Float(f64),
    /// A string.
    #[component(name = "text")]
    Text(String),
}

/// A payload value: what a command-line argument carries, or structured
/// data. It is lowered into a plugin as it is, as the contract's `value`
/// (the same in every version so far): it implements wasmtime's
/// `ComponentType` and `Lower` for that.
#[derive(Debug, Clone, PartialEq, ComponentType, Lower)]
#[component(variant)]
pub enum Value {
    /// No value, e.g. an option that was not given.
    #[component(name = "absent")]
    Absent,
    /// A flag.
    #[component(name = "boolean")]
    Boolean(bool),
    /// A signed integer.
    #[component(name = "integer")]
    Integer(i64),
    /// A floating-point number.
    #[component(name = "float")]
    Float(f64),
    /// A string.
    #[component(name = "text")]
    Text(String),
    /// A list of scalars, e.g. the values of a repeated argument.
    #[component(name = "list")]
    List(Vec<Scalar>),
    /// Structured data as JSON text.
    #[component(name = "json")]
    Json(String),
}

/// Named values, in order: an event's payload. Each name appears once.
pub type Payload = Vec<(String, Value)>;

/// Builds a payload from `(name, value)` pairs.
pub fn payload<K: Into<String>, V: Into<Value>>(
    entries: impl IntoIterator<Item = (K, V)>,
) -> Payload {
    entries
        .into_iter()
        .map(|(key, value)| (key.into(), value.into()))
        .collect()
}

/// The value named `key` in `payload`.
pub fn lookup<'a>(payload: &'a [(String, Value)], key: &str) -> Option<&'a Value> {
    payload
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value)
}

/// What the host keeps for each payload entry besides its text: the
/// entry's name and value themselves (`(String, Value)`).
pub const ENTRY_BYTES: usize = std::mem::size_of::<(String, Value)>();

/// What the host keeps for each item of a list besides its text.
pub const ITEM_BYTES: usize = std::mem::size_of::<Scalar>();

/// What the host keeps for a value besides its text and list items.
pub const VALUE_BYTES: usize = std::mem::size_of::<Value>();

/// The bytes the host holds for `payload`, as counted against the payload
/// limit and every budget that keeps payloads: [`ENTRY_BYTES`] per entry,
/// [`ITEM_BYTES`] per list item, and the bytes of every name and string.
/// An entry with an empty name and empty text still costs its
/// [`ENTRY_BYTES`], so a payload under a limit of `L` bytes has at most
/// `L / ENTRY_BYTES` entries.
pub fn payload_size(payload: &[(String, Value)]) -> usize {
    payload
        .iter()
        .map(|(name, value)| ENTRY_BYTES + name.len() + held_beside(value))
        .sum()
}

/// The bytes the host holds for one value, as counted against the payload
/// limit and a plugin's variable budget: the value itself, its text, and
/// [`ITEM_BYTES`] per list item; see [`payload_size`].
pub fn value_size(value: &Value) -> usize {
    VALUE_BYTES + held_beside(value)
}

/// What the host keeps for `value` beside the value itself: its text, or
/// its list items and theirs.
fn held_beside(value: &Value) -> usize {
    let item = |s: &Scalar| match s {
        Scalar::Text(text) => ITEM_BYTES + text.len(),
        _ => ITEM_BYTES,
    };
    match value {
        Value::Text(text) | Value::Json(text) => text.len(),
        Value::List(items) => items.iter().map(item).sum::<usize>(),
        _ => 0,
    }
}

/// What kind of value `value` is, in words: `an integer`, `text`, ...
pub fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Absent => "nothing",
        Value::Boolean(_) => "a boolean",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Text(_) => "text",
        Value::List(_) => "a list",
        Value::Json(_) => "structured data",
    }
}

/// Whether `value` may stand where `default` is expected: the same kind, an
/// integer for a float, or anything when the default is absent.
pub fn same_kind(default: &Value, value: &Value) -> bool {
    matches!(
        (default, value),
        (Value::Absent, _)
            | (Value::Boolean(_), Value::Boolean(_))
            | (Value::Integer(_), Value::Integer(_))
            | (Value::Float(_), Value::Float(_) | Value::Integer(_))
            | (Value::Text(_), Value::Text(_))
            | (Value::List(_), Value::List(_))
            | (Value::Json(_), Value::Json(_))
    )
}

impl Value {
    /// Reads a command-line style value: `true`/`false`, an integer, a float,
    /// or else text.
    pub fn parse(text: &str) -> Value {
        match Scalar::parse(text) {
            Scalar::Absent => Value::Absent,
            Scalar::Boolean(b) => Value::Boolean(b),
            Scalar::Integer(i) => Value::Integer(i),
            Scalar::Float(f) => Value::Float(f),
            Scalar::Text(s) => Value::Text(s),
        }
    }

    /// The string inside a `text` value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl Scalar {
    /// Reads a command-line style value: `true`/`false`, an integer, a float,
    /// or else text.
    pub fn parse(text: &str) -> Scalar {
        if let Ok(b) = text.parse::<bool>() {
            Scalar::Boolean(b)
        } else if let Ok(i) = text.parse::<i64>() {
            Scalar::Integer(i)
        } else if let Ok(f) = text.parse::<f64>() {
            Scalar::Float(f)
        } else {
            Scalar::Text(text.to_string())
        }
    }
}

/// A Rust type that can be read out of a [`Value`], as
/// [`Event::get`](crate::Event::get) does.
pub trait FromValue: Sized {
    /// Converts `value`, or `None` when it holds another type.
    fn from_value(value: &Value) -> Option<Self>;
}

/// A Rust type that can be read out of one [`Scalar`] of a list.
pub trait FromScalar: Sized {
    /// Converts `scalar`, or `None` when it holds another type.
    fn from_scalar(scalar: &Scalar) -> Option<Self>;
}

/// Reads scalars and single values of one Rust type.
macro_rules! from_scalar {
    ($($ty:ty: $($variant:ident($bound:ident) => $result:expr),+;)+) => {$(
        impl FromScalar for $ty {
            fn from_scalar(scalar: &Scalar) -> Option<Self> {
                match scalar {
                    $(Scalar::$variant($bound) => Some($result),)+
                    _ => None,
                }
            }
        }

        impl FromValue for $ty {
            fn from_value(value: &Value) -> Option<Self> {
                match value {
                    $(Value::$variant($bound) => Some($result),)+
                    _ => None,
                }
            }
        }
    )+};
}

from_scalar! {
    bool: Boolean(b) => *b;
    i64: Integer(i) => *i;
    f64: Float(f) => *f, Integer(i) => *i as f64;
    String: Text(s) => s.clone();
}

impl<T: FromScalar> FromValue for Vec<T> {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::List(items) => items.iter().map(T::from_scalar).collect(),
            _ => None,
        }
    }
}

impl FromValue for Value {
    fn from_value(value: &Value) -> Option<Self> {
        Some(value.clone())
    }
}

impl From<Scalar> for Value {
    fn from(scalar: Scalar) -> Self {
        match scalar {
            Scalar::Absent => Value::Absent,
            Scalar::Boolean(b) => Value::Boolean(b),
            Scalar::Integer(i) => Value::Integer(i),
            Scalar::Float(f) => Value::Float(f),
            Scalar::Text(s) => Value::Text(s),
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

impl From<Vec<Scalar>> for Value {
    fn from(items: Vec<Scalar>) -> Self {
        Value::List(items)
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Absent => f.write_str("absent"),
            Scalar::Boolean(b) => write!(f, "{b}"),
            Scalar::Integer(i) => write!(f, "{i}"),
            Scalar::Float(x) => write!(f, "{x:?}"),
            Scalar::Text(s) => write!(f, "{s:?}"),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Absent => f.write_str("absent"),
            Value::Boolean(b) => write!(f, "{b}"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Text(s) => write!(f, "{s:?}"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Json(json) => write!(f, "json {json}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reads_cli_values() {
        assert_eq!(Value::parse("true"), Value::Boolean(true));
        assert_eq!(Value::parse("-3"), Value::Integer(-3));
        assert_eq!(Value::parse("2.5"), Value::Float(2.5));
        assert_eq!(Value::parse("bar"), Value::Text("bar".into()));
    }

    #[test]
    fn typed_reads_take_only_their_type() {
        assert_eq!(i64::from_value(&Value::Integer(3)), Some(3));
        assert_eq!(f64::from_value(&Value::Integer(3)), Some(3.0));
        assert_eq!(String::from_value(&Value::Integer(3)), None);
        let list = Value::List(vec![Scalar::Text("a".into()), Scalar::Text("b".into())]);
        assert_eq!(
            Vec::<String>::from_value(&list),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(Vec::<i64>::from_value(&list), None);
    }

    #[test]
    fn empty_entries_and_items_cost_what_the_host_keeps() {
        let empty = vec![(String::new(), Value::Text(String::new())); 1000];
        assert_eq!(payload_size(&empty), 1000 * ENTRY_BYTES);
        let list = Value::List(vec![Scalar::Text(String::new()); 1000]);
        assert_eq!(value_size(&list), VALUE_BYTES + 1000 * ITEM_BYTES);
        assert_eq!(
            payload_size(&[("ab".into(), Value::Text("xyz".into()))]),
            ENTRY_BYTES + 5
        );
    }

    #[test]
    fn lookup_finds_by_name() {
        let p = payload([("a", 1i64), ("b", 2i64)]);
        assert_eq!(lookup(&p, "b"), Some(&Value::Integer(2)));
        assert_eq!(lookup(&p, "c"), None);
    }
}
