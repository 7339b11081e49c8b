//! The imports that answer at once: the application's name and version,
//! variables (charged to the plugin that sets them), configuration values,
//! which services run, what the plugin was granted.

use super::*;

/// What answers at once.
impl HostState {
    /// The configuration value `key`: from the file, else its default.
    pub(crate) fn config_value(&self, key: &str) -> Option<&Value> {
        let from_file = self.config().iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let declared = self
            .declared
            .iter()
            .find(|k| k.key == key)
            .map(|k| &k.default);
        from_file.or(declared)
    }

    pub(crate) fn prog_name(&self) -> String {
        self.app.prog_name.clone()
    }

    pub(crate) fn app_version(&self) -> String {
        self.app.version.clone()
    }

    /// A copy of the variable `name`.
    pub(crate) fn get_var(&self, name: &str) -> Option<Value> {
        self.app.vars.get(name)
    }

    pub(crate) fn set_var(&mut self, name: String, value: Value) -> wasmtime::Result<()> {
        self.alive()?;
        self.check_name(&name)?;
        self.check_size(name.len() + value_size(&value))?;
        let budget = self.var_budget();
        self.app.vars.set_by(&self.plugin, name, value, budget)?;
        Ok(())
    }

    /// Adds `delta` to the integer variable `name`, charged to the plugin.
    pub(crate) fn add_var(
        &mut self,
        name: &str,
        delta: i64,
    ) -> wasmtime::Result<Result<i64, String>> {
        self.alive()?;
        self.check_name(name)?;
        Ok(self
            .app
            .vars
            .add_by(&self.plugin, name, delta, self.var_budget())?)
    }

    /// Appends `item` to the list variable `name`, charged to the plugin.
    pub(crate) fn append_var(
        &mut self,
        name: &str,
        item: Scalar,
    ) -> wasmtime::Result<Result<u32, String>> {
        self.alive()?;
        self.check_name(name)?;
        let budget = self.var_budget();
        let payload_bytes = self.payload_bytes();
        let appended = self
            .app
            .vars
            .append_by(&self.plugin, name, item, budget, payload_bytes)?;
        Ok(appended.map(|len| u32::try_from(len).unwrap_or(u32::MAX)))
    }

    fn var_budget(&self) -> VarBudget {
        VarBudget {
            bytes: self.budget().var_bytes,
            count: self.budget().vars,
        }
    }

    /// Whether the service `name` is running; `None` when there is none.
    pub(crate) fn service_running(&mut self, name: &str) -> Option<bool> {
        self.app.services.is_running(name)
    }

    /// What the plugin was granted of what it declared.
    pub(crate) fn granted(&self) -> &[Granted] {
        &self.granted
    }
}
