//! Loading a plugin again and unloading it, by hand or under `--watch`
//! (while a command runs, a plugin whose file changes is loaded again). A
//! plugin loaded again goes through every check of a first load (grants,
//! data directory, lockfile, contributions), and its new instance is put
//! behind the plugin's handle: its services are stopped and started again,
//! its subscriptions and commands replaced. A new file that fails to load
//! leaves the running plugin as it is.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use super::App;
use super::loader::Candidate;
use super::registry::{self, Stamp, stamp};
use crate::io::changes::Changes;
use crate::io::text::Clean;
use crate::model::error::LoadError;
use crate::plugin::{Plugin, PluginId};
use crate::services::{Run, ServiceContext, ServiceFailure};

/// How long a changed file must stay the same before it is acted on, so
/// that a file still being written is not loaded half done.
const WATCH_SETTLE: std::time::Duration = std::time::Duration::from_millis(200);

/// One plugin's file, watched.
struct Watched {
    path: PathBuf,
    /// The plugin: a handle that stays when it is loaded again.
    plugin: Arc<Plugin>,
    /// The file as last acted on.
    seen: Stamp,
    /// A change seen at the last look, acted on if the next look sees it
    /// again.
    settling: Option<Stamp>,
}

impl Watched {
    /// Whether the file changed and has settled since the last look.
    fn changed(&mut self) -> bool {
        let now = stamp(&self.path);
        if now == self.seen {
            self.settling = None;
            return false;
        }
        if self.settling != Some(now) {
            self.settling = Some(now);
            return false;
        }
        (self.seen, self.settling) = (now, None);
        // A file that went away leaves its plugin running.
        now.is_some()
    }
}

impl App {
    /// Loads the plugin `name` again from its file, with the options it was
    /// loaded with and through every check of a first load, and puts the
    /// new instance behind its handle (see [`App::watch`]): its running
    /// services are stopped and started again on the new instance (their
    /// failures are reported as lines on standard error and returned).
    /// `Ok(None)` when the file's content is what runs already. On error
    /// the running plugin is kept as it is.
    pub async fn reload_plugin(
        &self,
        name: &str,
    ) -> Result<Option<Vec<ServiceFailure>>, LoadError> {
        let plugin = self.plugin(name).ok_or_else(|| LoadError::Replace {
            name: name.to_string(),
            path: String::new(),
            cause: "no plugin of this name is loaded".into(),
        })?;
        let _one_at_a_time = self.reloading.lock().await;
        let Some(candidate) = self.load_again(&plugin).await? else {
            return Ok(None);
        };
        let failures = self
            .replace(&plugin, candidate, &self.service_context())
            .await;
        failures.iter().for_each(ServiceFailure::report);
        Ok(Some(failures))
    }

    /// Unloads the plugin `name`: its running services are stopped (their
    /// failures are returned), then its subscriptions, commands, services
    /// and configuration keys are removed and its instance is released;
    /// its timers end. A plugin waiting to be loaded lazily is not loaded,
    /// and its commands and places go. `None` when no plugin of that name
    /// is loaded or waiting.
    pub async fn unload_plugin(&self, name: &str) -> Option<Vec<ServiceFailure>> {
        let _one_at_a_time = self.reloading.lock().await;
        // One waiting to be loaded lazily has nothing running.
        if let Some(lazy) = self.registry.remove_sleeping(name)
            && lazy.cancel().await
        {
            return Some(Vec::new());
        }
        let name = self.plugin(name)?.name().to_string();
        let (plugin, services) = self.registry.remove(&name)?;
        let running = services.iter().filter(|s| s.is_running()).cloned();
        let failures = Run::of(running.collect())
            .stop(&self.service_context())
            .await;
        for service in &services {
            self.info.services.remove(service.name());
        }
        if let Some(run) = self.services.lock().unwrap().as_mut() {
            run.forget(&services);
        }
        self.events.forget(&plugin);
        plugin.retire().await;
        Some(failures)
    }

    /// Watches every plugin's file until `done` turns true, loading again
    /// each that changes, except `commanding`, the plugin whose command
    /// runs (its call cannot be moved to a new instance). Returns whether a
    /// service it restarted failed (each failure is reported as it
    /// happens).
    pub(crate) async fn watch_plugins(
        &self,
        ctx: &ServiceContext,
        commanding: Option<PluginId>,
        mut done: watch::Receiver<bool>,
    ) -> bool {
        let mut watched: Vec<Watched> = self
            .plugins()
            .into_iter()
            .filter_map(|plugin| {
                let source = self.registry.source(plugin.name())?;
                Some(Watched {
                    seen: source.stamp,
                    path: source.path,
                    plugin,
                    settling: None,
                })
            })
            .collect();
        let mut changes = Changes::watch(watched.iter().map(|w| w.path.as_path()));
        // One look first: a change made before watching began.
        let (mut failed, mut settling) = (false, true);
        loop {
            // A notice wakes the loop; a file that changed is looked at
            // again after a while, until it stays the same.
            tokio::select! {
                () = changes.next(), if !settling => {}
                () = tokio::time::sleep(WATCH_SETTLE), if settling => {}
                _ = done.wait_for(|done| *done) => return failed,
            }
            settling = false;
            for watched in &mut watched {
                if !watched.changed() {
                    settling |= watched.settling.is_some();
                    continue;
                }
                let plugin_name = watched.plugin.name().to_string();
                let name = Clean::new(&plugin_name);
                if Some(watched.plugin.id()) == commanding {
                    tracing::warn!(
                        "plugin '{name}' changed; it runs the command, so it is loaded again at the next start"
                    );
                    continue;
                }
                let reloading = Instant::now();
                let _one_at_a_time = self.reloading.lock().await;
                // Loading may compile for seconds: the end of the command
                // does not wait for it. Nothing is replaced until it is done.
                let loaded = tokio::select! {
                    loaded = self.load_again(&watched.plugin) => loaded,
                    _ = done.wait_for(|done| *done) => return failed,
                };
                match loaded {
                    Ok(None) => {}
                    Ok(Some(candidate)) => {
                        let failures = self.replace(&watched.plugin, candidate, ctx).await;
                        failures.iter().for_each(ServiceFailure::report);
                        failed |= !failures.is_empty();
                        tracing::info!(
                            "reloaded plugin '{name}' ({}) in {:.0?}",
                            Clean::new(watched.plugin.path()),
                            reloading.elapsed()
                        );
                    }
                    Err(error) => tracing::error!(
                        "{}; the running plugin '{name}' is kept",
                        Clean::new(&error.to_string())
                    ),
                }
            }
        }
    }

    /// Loads `current`'s file again, with the options it was loaded with,
    /// and runs the new instance's `setup`; `None` when the file's content
    /// is what `current` runs.
    async fn load_again(&self, current: &Arc<Plugin>) -> Result<Option<Candidate>, LoadError> {
        let name = current.name();
        let Some(mut source) = self.registry.source(name) else {
            return Ok(None);
        };
        source.stamp = stamp(&source.path);
        let file =
            registry::read_file(&source.path, source.rename.as_deref(), self.cache()).await?;
        if file.file.digest() == current.digest() {
            return Ok(None);
        }
        let refuse = |cause: String| LoadError::Replace {
            name: name.to_string(),
            path: file.file.shown.clone(),
            cause,
        };
        if file.file.name != name {
            return Err(refuse(format!("it is named '{}' now", file.file.name)));
        }
        let candidate = self.loader().set_up(file, source).await?;
        let had = self.plugin_services(name);
        let has: Vec<(String, Option<String>)> = candidate
            .contributed
            .services
            .iter()
            .map(|s| (s.name().to_string(), s.command().map(str::to_string)))
            .collect();
        if had != has {
            let cause = "its services changed; restart the application to load it".to_string();
            return Err(LoadError::Replace {
                name: name.to_string(),
                path: candidate.plugin.path().to_string(),
                cause,
            });
        }
        Ok(Some(candidate))
    }

    /// Puts `candidate`'s instance behind `plugin`'s handle: `plugin`'s
    /// running services are stopped, its subscriptions that `candidate`'s
    /// `setup` did not make again end, the handle is swapped to the new
    /// instance (the old one is disabled), its own requests from `setup`
    /// are carried out, its commands and keys replace the old ones, and
    /// its services are set up and started again. Returns the services'
    /// failures.
    async fn replace(
        &self,
        plugin: &Arc<Plugin>,
        candidate: Candidate,
        ctx: &ServiceContext,
    ) -> Vec<ServiceFailure> {
        let Candidate {
            plugin: new,
            requests,
            setting_up,
            mut contributed,
        } = candidate;
        let provided = self.registry.services().into_iter();
        let provided = provided.filter(|s| s.plugin_name() == Some(plugin.name()));
        let restart = Run::of(provided.filter(|s| s.is_running()).collect());
        let mut failures = restart.stop(ctx).await;
        self.events.resubscribe(plugin, &requests);
        plugin.swap(&new).await;
        // Its errors are counted afresh.
        let faults = self.events.faults();
        faults.set_max_errors(plugin.name(), plugin.limits().max_errors);
        contributed.profile.setup = setting_up.elapsed();
        // The same services, provided by the same handle: the new ones are
        // not kept.
        contributed.services.clear();
        self.registry.replace(plugin, contributed);
        self.events.apply(plugin, requests, 0).await;
        if let Err(failed) = restart.setup_and_start(ctx).await {
            failures.extend(failed);
        }
        failures
    }
}
