//! Application variables: named values shared by the application, its
//! native code and every plugin. What a plugin stores is charged to it (bytes
//! and count, within its host budget); overwriting a
//! value credits its previous owner.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::model::value::{ITEM_BYTES, Scalar, Value, value_size};
use crate::trust::sandbox::LimitExceeded;

/// The application's variables. Cloning gives another handle to the same
/// variables.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    inner: Arc<RwLock<Table>>,
}

#[derive(Debug, Default)]
struct Table {
    values: HashMap<String, Held>,
    usage: HashMap<Arc<str>, Usage>,
}

/// A value and who stored it.
#[derive(Debug)]
struct Held {
    value: Value,
    owner: Option<Arc<str>>,
    size: usize,
}

/// What one plugin holds: bytes of names and values, and how many.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Usage {
    pub(crate) bytes: usize,
    pub(crate) count: usize,
}

/// How much one plugin may hold in variables.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VarBudget {
    pub(crate) bytes: usize,
    pub(crate) count: usize,
}

impl Vars {
    /// The variable `name`, if it was set.
    pub fn get(&self, name: &str) -> Option<Value> {
        let table = self.inner.read().unwrap();
        table.values.get(name).map(|held| held.value.clone())
    }

    /// Sets the variable `name`, visible at once to everyone.
    pub fn set(&self, name: impl Into<String>, value: impl Into<Value>) {
        let mut table = self.inner.write().unwrap();
        table.put(name.into(), value.into(), None);
    }

    /// Removes the variable `name`, crediting the plugin that set it, and
    /// returns its value.
    pub fn remove(&self, name: &str) -> Option<Value> {
        let mut table = self.inner.write().unwrap();
        let old = table.values.remove(name)?;
        table.credit(&old);
        Some(old.value)
    }

    /// Sets `name` for the plugin `owner`, charged to it: refused when what
    /// the plugin would then hold goes past `budget`.
    pub(crate) fn set_by(
        &self,
        owner: &Arc<str>,
        name: String,
        value: Value,
        budget: VarBudget,
    ) -> Result<(), LimitExceeded> {
        let mut table = self.inner.write().unwrap();
        table.charge(owner, &name, &value, budget)?;
        table.put(name, value, Some(owner.clone()));
        Ok(())
    }

    /// Adds `delta` to the integer variable `name` (absent counts as 0) and
    /// returns the new value, in one step: concurrent additions are never
    /// lost. `Err` says why the variable cannot be added to.
    pub fn add(&self, name: &str, delta: i64) -> Result<i64, String> {
        let added = self.update(None, name, |old| add(name, old, delta));
        added.expect("no budget without an owner").map(integer)
    }

    /// Appends `item` to the list variable `name` (absent counts as empty)
    /// and returns its new length, in one step: concurrent appends are never
    /// lost. `Err` says why the variable cannot be appended to.
    pub fn append(&self, name: &str, item: Scalar) -> Result<usize, String> {
        self.append_to(None, name, item, usize::MAX)
            .expect("no budget without an owner")
    }

    /// Like [`Vars::add`], for the plugin `owner`, charged to it.
    pub(crate) fn add_by(
        &self,
        owner: &Arc<str>,
        name: &str,
        delta: i64,
        budget: VarBudget,
    ) -> Result<Result<i64, String>, LimitExceeded> {
        let added = self.update(Some((owner, budget)), name, |old| add(name, old, delta))?;
        Ok(added.map(integer))
    }

    /// Like [`Vars::append`], for the plugin `owner`, charged to it; the
    /// list may not grow past `max_bytes` (a payload's bound).
    pub(crate) fn append_by(
        &self,
        owner: &Arc<str>,
        name: &str,
        item: Scalar,
        budget: VarBudget,
        max_bytes: usize,
    ) -> Result<Result<usize, String>, LimitExceeded> {
        self.append_to(Some((owner, budget)), name, item, max_bytes)
    }

    /// Appends `item` to the list `name` in place, under one lock, in time
    /// independent of the list's length; charged to `by` when given.
    fn append_to(
        &self,
        by: Option<(&Arc<str>, VarBudget)>,
        name: &str,
        item: Scalar,
        max_bytes: usize,
    ) -> Result<Result<usize, String>, LimitExceeded> {
        let mut table = self.inner.write().unwrap();
        let item_size = ITEM_BYTES
            + if let Scalar::Text(t) = &item {
                t.len()
            } else {
                0
            };
        let size = match table.values.get(name) {
            None
            | Some(Held {
                value: Value::Absent,
                ..
            }) => name.len() + value_size(&Value::List(Vec::new())) + item_size,
            Some(
                held @ Held {
                    value: Value::List(_),
                    ..
                },
            ) => held.size + item_size,
            Some(_) => return Ok(Err(format!("variable '{name}' does not hold a list"))),
        };
        if size > max_bytes {
            let why =
                format!("variable '{name}' would hold {size} bytes; the limit is {max_bytes}");
            return Ok(Err(why));
        }
        if let Some((owner, budget)) = by {
            table.charge_size(owner, name, size, budget)?;
        }
        let owner = by.map(|(owner, _)| owner.clone());
        let Some(held) = table
            .values
            .get_mut(name)
            .filter(|h| h.value != Value::Absent)
        else {
            table.put(name.to_string(), Value::List(vec![item]), owner);
            return Ok(Ok(1));
        };
        let Value::List(items) = &mut held.value else {
            unreachable!("checked to be a list")
        };
        items.push(item);
        let len = items.len();
        let old = Held {
            value: Value::Absent,
            owner: std::mem::replace(&mut held.owner, owner.clone()),
            size: std::mem::replace(&mut held.size, size),
        };
        table.credit(&old);
        if let Some(owner) = owner {
            let usage = table.usage.entry(owner).or_default();
            usage.bytes += size;
            usage.count += 1;
        }
        Ok(Ok(len))
    }

    /// Replaces `name` with what `change` makes of its value, under one
    /// lock; charged to `by` (a plugin and its budget) when given.
    fn update(
        &self,
        by: Option<(&Arc<str>, VarBudget)>,
        name: &str,
        change: impl FnOnce(Option<&Value>) -> Result<Value, String>,
    ) -> Result<Result<Value, String>, LimitExceeded> {
        let mut table = self.inner.write().unwrap();
        let old = table.values.get(name).map(|held| &held.value);
        let value = match change(old) {
            Ok(value) => value,
            Err(why) => return Ok(Err(why)),
        };
        if let Some((owner, budget)) = by {
            table.charge(owner, name, &value, budget)?;
        }
        let owner = by.map(|(owner, _)| owner.clone());
        table.put(name.to_string(), value.clone(), owner);
        Ok(Ok(value))
    }

    /// What the plugin `owner` holds now.
    #[cfg(test)]
    pub(crate) fn usage_of(&self, owner: &str) -> Usage {
        let table = self.inner.read().unwrap();
        table.usage.get(owner).copied().unwrap_or_default()
    }
}

/// `old` plus `delta`, for the variable `name`.
fn add(name: &str, old: Option<&Value>, delta: i64) -> Result<Value, String> {
    let n = match old {
        None | Some(Value::Absent) => 0,
        Some(Value::Integer(n)) => *n,
        Some(_) => return Err(format!("variable '{name}' does not hold an integer")),
    };
    n.checked_add(delta)
        .map(Value::Integer)
        .ok_or_else(|| format!("variable '{name}' would overflow"))
}

fn integer(value: Value) -> i64 {
    match value {
        Value::Integer(n) => n,
        _ => unreachable!("add makes an integer"),
    }
}

impl Table {
    /// Refuses `value` for `name` when what `owner` would then hold goes
    /// past `budget`.
    fn charge(
        &self,
        owner: &Arc<str>,
        name: &str,
        value: &Value,
        budget: VarBudget,
    ) -> Result<(), LimitExceeded> {
        self.charge_size(owner, name, name.len() + value_size(value), budget)
    }

    /// Refuses a value of `size` bytes for `name` when what `owner` would
    /// then hold goes past `budget`.
    fn charge_size(
        &self,
        owner: &Arc<str>,
        name: &str,
        size: usize,
        budget: VarBudget,
    ) -> Result<(), LimitExceeded> {
        let mut after = self.usage.get(owner).copied().unwrap_or_default();
        match self.values.get(name) {
            Some(old) if old.owner.as_ref() == Some(owner) => after.bytes -= old.size,
            _ => after.count += 1,
        }
        after.bytes += size;
        LimitExceeded::check("bytes of variables", after.bytes, budget.bytes)?;
        LimitExceeded::check("variables", after.count, budget.count)
    }

    /// Stores a value, crediting the previous owner and charging the new one.
    fn put(&mut self, name: String, value: Value, owner: Option<Arc<str>>) {
        let size = name.len() + value_size(&value);
        if let Some(owner) = &owner {
            let usage = self.usage.entry(owner.clone()).or_default();
            usage.bytes += size;
            usage.count += 1;
        }
        let held = Held { value, owner, size };
        if let Some(old) = self.values.insert(name, held) {
            self.credit(&old);
        }
    }

    /// Gives back what `old` cost the plugin that stored it.
    fn credit(&mut self, old: &Held) {
        if let Some(owner) = &old.owner
            && let Some(usage) = self.usage.get_mut(owner)
        {
            usage.bytes -= old.size;
            usage.count -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::value::VALUE_BYTES;

    #[test]
    fn adding_and_appending_are_one_step_and_charged() {
        let (vars, a): (Vars, Arc<str>) = (Vars::default(), "a".into());
        let budget = VarBudget {
            bytes: 200,
            count: 2,
        };
        assert_eq!(vars.add("n", 2), Ok(2));
        assert_eq!(vars.add_by(&a, "n", 3, budget).unwrap(), Ok(5));
        assert_eq!(vars.usage_of("a").count, 1);
        assert_eq!(
            vars.add("n", i64::MAX),
            Err("variable 'n' would overflow".into())
        );
        assert_eq!(vars.append("l", Scalar::Integer(1)), Ok(1));
        let appended = vars.append_by(&a, "l", Scalar::Text("x".into()), budget, 1024);
        assert_eq!(appended.unwrap(), Ok(2));
        assert_eq!(
            vars.get("l"),
            Some(Value::List(vec![
                Scalar::Integer(1),
                Scalar::Text("x".into())
            ]))
        );
        // `l` costs its name, the value and two items, one with text.
        let l = 1 + VALUE_BYTES + 2 * ITEM_BYTES + 1;
        assert_eq!(vars.usage_of("a").bytes, 1 + VALUE_BYTES + l);
        // Past the value bound: an error; past the budget: a limit.
        let long = Scalar::Text("y".repeat(100));
        let too_long = vars.append_by(&a, "l", long.clone(), budget, 32).unwrap();
        assert!(too_long.unwrap_err().contains("the limit is 32"));
        assert!(vars.append_by(&a, "l", long, budget, 1024).is_err());
        assert_eq!(
            vars.append("n", Scalar::Absent),
            Err("variable 'n' does not hold a list".into())
        );
    }

    #[test]
    fn clones_share_variables() {
        let vars = Vars::default();
        vars.clone().set("plugged", "PLUGGED");
        assert_eq!(vars.get("plugged"), Some(Value::Text("PLUGGED".into())));
        assert_eq!(vars.get("missing"), None);
    }

    #[test]
    fn a_plugin_is_charged_for_what_it_holds_and_credited_when_overwritten() {
        let (vars, a, b): (Vars, Arc<str>, Arc<str>) = (Vars::default(), "a".into(), "b".into());
        let budget = VarBudget {
            bytes: 100 + VALUE_BYTES,
            count: 2,
        };
        vars.set_by(&a, "k".into(), Value::Text("x".repeat(50)), budget)
            .unwrap();
        assert_eq!(
            vars.usage_of("a"),
            Usage {
                bytes: 51 + VALUE_BYTES,
                count: 1
            }
        );
        // Overwriting its own value charges only the difference.
        vars.set_by(&a, "k".into(), Value::Text("x".repeat(90)), budget)
            .unwrap();
        assert_eq!(vars.usage_of("a").bytes, 91 + VALUE_BYTES);
        let too_big = vars.set_by(&a, "j".into(), Value::Text("x".repeat(20)), budget);
        assert!(matches!(too_big, Err(LimitExceeded::Budget { .. })));
        // Another plugin overwriting it credits the first.
        vars.set_by(&b, "k".into(), Value::Boolean(true), budget)
            .unwrap();
        assert_eq!(vars.usage_of("a"), Usage::default());
        vars.set("k", 1);
        assert_eq!(vars.usage_of("b"), Usage::default());
        // Removing a value credits its owner.
        vars.set_by(&b, "gone".into(), Value::Integer(1), budget)
            .unwrap();
        assert_eq!(vars.remove("gone"), Some(Value::Integer(1)));
        assert_eq!(vars.usage_of("b"), Usage::default());
        assert_eq!(vars.remove("gone"), None);
        vars.set_by(&a, "x".into(), Value::Absent, budget).unwrap();
        vars.set_by(&a, "y".into(), Value::Absent, budget).unwrap();
        let too_many = vars.set_by(&a, "z".into(), Value::Absent, budget);
        assert!(matches!(
            too_many,
            Err(LimitExceeded::Budget {
                what: "variables",
                ..
            })
        ));
    }
}
