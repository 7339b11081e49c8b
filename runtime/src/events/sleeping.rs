//! Subscribers that stand for plugins not loaded yet: a plugin loaded
//! lazily holds its place among the subscribers of each event it declares
//! until one of them first occurs. The dispatcher then wakes it (loads it
//! and runs its `setup`) and delivers the event to it, in its place;
//! its subscriptions take the places it held.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::{Entry, Events, Subscriber};
use crate::host::requests::Requests;
use crate::plugin::Plugin;

/// A plugin not loaded yet, which the dispatcher wakes when one of its
/// events occurs.
pub(crate) trait Sleeper: Send + Sync {
    /// Loads the plugin, once, however many dispatches ask at once;
    /// `None` when it could not be loaded (reported then).
    fn wake(self: Arc<Self>) -> Pin<Box<dyn Future<Output = Option<Arc<Plugin>>> + Send>>;
}

impl Entry {
    /// Whether it is the place `sleeper` holds.
    fn is_sleeper(&self, sleeper: &Arc<dyn Sleeper>) -> bool {
        matches!(&self.subscriber, Subscriber::Sleeping(s) if Arc::ptr_eq(s, sleeper))
    }
}

impl Events {
    /// Puts `sleeper` after the subscribers of `name` already there.
    pub(crate) fn subscribe_sleeper(&self, name: &str, sleeper: Arc<dyn Sleeper>) {
        self.push(name, Subscriber::Sleeping(sleeper));
    }

    /// Gives the places `sleeper` held to `plugin`, the plugin it stood
    /// for, now loaded: to the events its `setup`'s `requests` subscribe
    /// to; its other places go (all of them when it failed to load:
    /// `None`). The requests themselves are carried out afterwards, and
    /// subscribe nothing twice.
    pub(crate) fn wake_in_place(
        &self,
        sleeper: &Arc<dyn Sleeper>,
        plugin: Option<&Arc<Plugin>>,
        requests: &Requests,
    ) {
        let subscribed = requests.subscribed();
        let mut table = self.inner.table.lock().unwrap();
        table.edit(
            None,
            |entry| entry.is_sleeper(sleeper),
            |name, entries| {
                let taken = plugin.filter(|_| subscribed.contains(name));
                entries.retain_mut(|entry| {
                    if !entry.is_sleeper(sleeper) {
                        return true;
                    }
                    match taken {
                        Some(plugin) => {
                            entry.subscriber = Subscriber::Plugin(plugin.clone());
                            true
                        }
                        None => false,
                    }
                });
            },
        );
    }

    /// Carries out what the `setup` of `plugin`, woken by a delivery, asked:
    /// its dispatches are made one level deeper than that delivery, within
    /// its cascade.
    pub(crate) fn apply_woken<'a>(
        &'a self,
        plugin: &'a Arc<Plugin>,
        requests: Requests,
    ) -> super::BoxFuture<'a, ()> {
        let depth = super::SCOPE.try_with(|scope| scope.depth).unwrap_or(0);
        self.apply(plugin, requests, depth)
    }

    /// Whether `plugin` is among the subscribers of `name`.
    pub(super) fn is_subscribed(&self, name: &str, plugin: &Arc<Plugin>) -> bool {
        let table = self.inner.table.lock().unwrap();
        table.any(name, |entry| entry.is_plugin(plugin))
    }
}
