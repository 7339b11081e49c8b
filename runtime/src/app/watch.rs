//! `--watch`: while a command runs, a plugin whose file changes is loaded
//! again, through every check of a first load (grants, data directory,
//! lockfile, contributions), and takes the running plugin's place: its
//! services are stopped and started again, its subscriptions and commands
//! replaced. A new file that fails to load leaves the running plugin as it
//! is.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use super::App;
use super::registry::{self, Candidate, Stamp, stamp};
use crate::error::LoadError;
use crate::plugin::Plugin;
use crate::services::{Run, ServiceContext, ServiceFailure};
use crate::text::Clean;

/// How often the watched files are looked at. A change is acted on once
/// the file has stayed the same for one more look, so that a file still
/// being written is not loaded half done.
pub(crate) const WATCH_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// One plugin's file, watched.
struct Watched {
    path: PathBuf,
    /// The plugin running now.
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
    /// Watches every plugin's file until `done` turns true, loading again
    /// each that changes, except `commanding`, the plugin whose command
    /// runs (its call cannot be moved to a new instance). Returns whether a
    /// service it restarted failed (each failure is reported as it
    /// happens).
    pub(crate) async fn watch_plugins(
        &self,
        ctx: &ServiceContext,
        commanding: Option<&str>,
        mut done: watch::Receiver<bool>,
    ) -> bool {
        let mut watched: Vec<Watched> = self
            .plugins
            .iter()
            .filter_map(|plugin| {
                let source = self.sources.get(plugin.name())?;
                Some(Watched {
                    seen: source.stamp,
                    path: source.path.clone(),
                    plugin: plugin.clone(),
                    settling: None,
                })
            })
            .collect();
        let mut failed = false;
        loop {
            tokio::select! {
                () = tokio::time::sleep(WATCH_POLL) => {}
                _ = done.wait_for(|done| *done) => return failed,
            }
            for watched in &mut watched {
                if !watched.changed() {
                    continue;
                }
                let plugin_name = watched.plugin.name().to_string();
                let name = Clean::new(&plugin_name);
                if Some(watched.plugin.name()) == commanding {
                    tracing::warn!(
                        "plugin '{name}' changed; it runs the command, so it is loaded again at the next start"
                    );
                    continue;
                }
                let reloading = Instant::now();
                // Loading may compile for seconds: the end of the command
                // does not wait for it. Nothing is replaced until it is done.
                let loaded = tokio::select! {
                    loaded = self.load_again(&watched.plugin) => loaded,
                    _ = done.wait_for(|done| *done) => return failed,
                };
                match loaded {
                    Ok(None) => {}
                    Ok(Some(candidate)) => {
                        let new = candidate.plugin.clone();
                        let failures = self.replace(&watched.plugin, candidate, ctx).await;
                        failures.iter().for_each(|f| crate::logging::report(f));
                        failed |= !failures.is_empty();
                        watched.plugin = new;
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
        let mut source = self.sources[name].clone();
        source.stamp = stamp(&source.path);
        let file = registry::read_file(&source.path, source.rename.as_deref()).await?;
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
        let candidate = self.set_up(file, source).await?;
        let had: Vec<(&str, Option<&str>)> = self
            .services
            .iter()
            .filter(|s| s.plugin_name() == Some(name))
            .map(|s| (s.name(), s.command()))
            .collect();
        let has: Vec<(&str, Option<&str>)> = candidate
            .services
            .iter()
            .map(|s| (s.name(), s.command()))
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

    /// Puts `candidate` in `old`'s place: `old`'s running services are
    /// stopped, `candidate` takes over its subscriptions and services, its
    /// own requests from `setup` are carried out, and those services are
    /// set up and started again on it. `old` is disabled. Returns the
    /// services' failures.
    async fn replace(
        &self,
        old: &Arc<Plugin>,
        mut candidate: Candidate,
        ctx: &ServiceContext,
    ) -> Vec<ServiceFailure> {
        let new = candidate.plugin.clone();
        let provided: Vec<_> = self
            .services
            .iter()
            .filter(|s| s.plugin_name() == Some(old.name()))
            .cloned()
            .collect();
        let running = provided.iter().filter(|s| s.is_running()).cloned();
        let restart = Run::of(running.collect());
        let mut failures = restart.stop(ctx).await;
        self.events.replace_plugin(old, &new, &candidate.requests);
        old.disable();
        for service in &provided {
            service.replace_plugin(&new);
        }
        let requests = std::mem::take(&mut candidate.requests);
        self.events.apply(&new, requests, 0).await;
        if let Err(failed) = restart.start(ctx).await {
            failures.extend(failed);
        }
        candidate.profile.setup = candidate.setting_up.elapsed();
        self.reloaded.lock().unwrap().push(candidate);
        failures
    }

    /// Keeps the plugins loaded again during the run in the places of the
    /// ones they replaced, with their commands and configuration keys.
    pub(crate) fn keep_reloaded(&mut self) {
        let reloaded = std::mem::take(self.reloaded.get_mut().unwrap());
        for candidate in reloaded {
            let name = candidate.plugin.name().to_string();
            if let Some(kept) = self.plugins.iter_mut().find(|p| p.name() == name) {
                *kept = candidate.plugin.clone();
            }
            self.commands.retain(|c| !c.is_of(&name));
            self.commands.extend(candidate.commands);
            self.config_keys.retain(|(owner, _)| *owner != name);
            let keys = candidate.declared.into_iter();
            self.config_keys.extend(keys.map(|key| (name.clone(), key)));
            if let Some(profile) = self.load_profiles.iter_mut().find(|p| p.plugin == name) {
                *profile = candidate.profile;
            }
            self.sources.insert(name, candidate.source);
        }
    }
}
