//! Which services are running, as precept's `Service.running`: a service
//! runs from its successful start (before `{name}_start` is dispatched)
//! until it is stopped (before `{name}_stop`). Shared by the application,
//! its native services and its plugins.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// One service's name and whether it runs.
type State = (String, Arc<AtomicBool>);

/// Which of an application's services are running. Cloning gives another
/// view of the same states.
#[derive(Clone, Default)]
pub struct ServiceStates(Arc<RwLock<Vec<State>>>);

impl ServiceStates {
    /// Adds the service `name`, whose running state is `running`.
    pub(crate) fn add(&self, name: &str, running: Arc<AtomicBool>) {
        self.0.write().unwrap().push((name.to_string(), running));
    }

    /// Forgets the service `name`.
    pub(crate) fn remove(&self, name: &str) {
        self.0.write().unwrap().retain(|(n, _)| n != name);
    }

    /// Whether the service `name` is running; `None` when there is no such
    /// service.
    pub fn is_running(&self, name: &str) -> Option<bool> {
        let states = self.0.read().unwrap();
        let (_, running) = states.iter().find(|(n, _)| n == name)?;
        Some(running.load(Ordering::SeqCst))
    }
}
