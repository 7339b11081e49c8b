//! Application variables: named values shared by the application, its
//! native code and every plugin. What a plugin stores is charged to it (bytes
//! and count, within its [`HostBudget`](crate::HostBudget)); overwriting a
//! value credits its previous owner.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::sandbox::LimitExceeded;
use crate::value::{Value, value_size};

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
        let size = name.len() + value_size(&value);
        let mut table = self.inner.write().unwrap();
        let mut after = table.usage.get(owner).copied().unwrap_or_default();
        match table.values.get(&name) {
            Some(old) if old.owner.as_ref() == Some(owner) => after.bytes -= old.size,
            _ => after.count += 1,
        }
        after.bytes += size;
        if after.bytes > budget.bytes {
            return Err(LimitExceeded::Budget {
                what: "bytes of variables",
                wanted: after.bytes,
                limit: budget.bytes,
            });
        }
        if after.count > budget.count {
            return Err(LimitExceeded::Budget {
                what: "variables",
                wanted: after.count,
                limit: budget.count,
            });
        }
        table.put(name, value, Some(owner.clone()));
        Ok(())
    }

    /// What the plugin `owner` holds now.
    #[cfg(test)]
    pub(crate) fn usage_of(&self, owner: &str) -> Usage {
        let table = self.inner.read().unwrap();
        table.usage.get(owner).copied().unwrap_or_default()
    }
}

impl Table {
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
            bytes: 100,
            count: 2,
        };
        vars.set_by(&a, "k".into(), Value::Text("x".repeat(50)), budget)
            .unwrap();
        assert_eq!(
            vars.usage_of("a"),
            Usage {
                bytes: 51,
                count: 1
            }
        );
        // Overwriting its own value charges only the difference.
        vars.set_by(&a, "k".into(), Value::Text("x".repeat(90)), budget)
            .unwrap();
        assert_eq!(vars.usage_of("a").bytes, 91);
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
