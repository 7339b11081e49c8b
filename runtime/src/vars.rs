//! Application variables: named values shared by the application, its
//! native code and every plugin.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::value::Value;

/// The application's variables. Cloning gives another handle to the same
/// variables.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    inner: Arc<RwLock<HashMap<String, Value>>>,
}

impl Vars {
    /// The variable `name`, if it was set.
    pub fn get(&self, name: &str) -> Option<Value> {
        self.inner.read().unwrap().get(name).cloned()
    }

    /// Sets the variable `name`, visible at once to everyone.
    pub fn set(&self, name: impl Into<String>, value: impl Into<Value>) {
        self.inner
            .write()
            .unwrap()
            .insert(name.into(), value.into());
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
}
