//! The `events` import: subscribing, unsubscribing and dispatching, each
//! recorded as a request for the dispatcher.

use super::*;

/// The `events` import.
impl HostState {
    /// Subscribes the plugin to `name`; a request only when it changes
    /// what the plugin is subscribed to.
    pub(crate) fn subscribe(&mut self, name: String) -> wasmtime::Result<()> {
        self.check_name(&name)?;
        if self.subscribed.contains(&name) {
            return Ok(());
        }
        let wanted = self.subscribed.len() + 1;
        LimitExceeded::check("subscriptions", wanted, self.budget().subscriptions)?;
        self.record(HostOp::Subscribe(name.clone()))?;
        self.subscribed.insert(name);
        Ok(())
    }

    /// Unsubscribes the plugin from `name`; a request only when it was
    /// subscribed.
    pub(crate) fn unsubscribe(&mut self, name: String) -> wasmtime::Result<()> {
        self.check_name(&name)?;
        if !self.subscribed.contains(&name) {
            return Ok(());
        }
        self.record(HostOp::Unsubscribe(name.clone()))?;
        self.subscribed.remove(&name);
        Ok(())
    }

    pub(crate) fn dispatch(&mut self, name: String, payload: Payload) -> wasmtime::Result<()> {
        self.check_name(&name)?;
        self.check_size(payload_size(&payload))?;
        self.record(HostOp::Dispatch(name, payload))?;
        Ok(())
    }
}
