//! Loading one plugin into its application: its file checked against its
//! grants, the lockfile and its data directory, compiled, instantiated and
//! set up, and what it contributes checked before any of it is kept.
//! [`Loader`] holds what that needs of the application, so that a plugin
//! loaded lazily, long after start, loads as one loaded at start does.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Command;

use super::launch::Locks;
use super::lazy;
use super::registry::{Contributed, ReadFile, Registry, Source};
use super::{AppCommand, Runner};
use crate::compile::engine::{CodePolicy, PluginEngine};
use crate::events::Events;
use crate::host::requests::{HostOp, Requests};
use crate::model::app_info::AppInfo;
use crate::model::command_spec::{self, CommandSpec};
use crate::model::config::{ConfigKey, PluginOptions};
use crate::model::error::LoadError;
use crate::plugin::{Plugin, PluginFile};
use crate::services::Registered;
use crate::trust::capabilities::{DATA_PATH, Granted};
use crate::trust::sandbox::DirGrant;

/// What loading a plugin needs of its application: shared handles, and
/// the settings of the run, taken when it is made.
pub(crate) struct Loader {
    /// The engine plugins are compiled for.
    pub(crate) engine: Arc<PluginEngine>,
    /// What plugins are told of the application, and share with it.
    pub(crate) info: Arc<AppInfo>,
    /// The dispatcher their subscriptions join.
    pub(crate) events: Events,
    /// Where what they contribute is kept.
    pub(crate) registry: Arc<Registry>,
    /// Where their compiled code is kept.
    pub(crate) policy: CodePolicy,
    /// Where their data directories are.
    pub(crate) data_dir: Option<PathBuf>,
    /// The lockfiles they are checked against.
    pub(crate) locks: Locks,
    /// Whether plugins run with nothing of their grants (`inspect`).
    pub(crate) inert: bool,
    /// The application's arguments, which commands cannot reuse.
    pub(crate) args: Arc<[clap::Arg]>,
}

impl Loader {
    /// Checks `file` against its grants, the data directory and the
    /// lockfile, loads it and runs its `setup`, then checks what it
    /// contributes against what the application has (leaving out what a
    /// plugin of the same name has: the one it would replace). Nothing is
    /// kept yet.
    pub(crate) async fn set_up(
        &self,
        file: ReadFile,
        source: Source,
    ) -> Result<Candidate, LoadError> {
        let ReadFile { file, mut profile } = file;
        let (name, shown) = (file.name.clone(), file.shown.clone());
        let file_lazy = file.manifest.lazy.clone();
        let mut options = source.options.clone();
        let granted = file.granted(&options.sandbox.grants)?;
        // Granted (for a version with capabilities) and declared as `[data]`.
        let data = file.manifest.capabilities.data.is_some() && !self.inert;
        if data && granted.iter().any(Granted::is_data) {
            let dir = match &self.data_dir {
                Some(root) => {
                    crate::trust::data::plugin_dir(root, &name).map_err(|e| e.to_string())
                }
                None => Err("no data directory is set (--data-dir)".to_string()),
            };
            let dir = dir.map_err(|cause| LoadError::Grant {
                name: name.clone(),
                cause: format!("cannot give it its data directory: {cause}"),
            })?;
            let grants = &mut Arc::make_mut(&mut options).sandbox.grants;
            grants.dirs.push(DirGrant {
                host: dir,
                guest: DATA_PATH.into(),
                writable: true,
            });
        }
        self.check_lock(&file, &granted)?;
        if self.inert {
            Arc::make_mut(&mut options).sandbox.grants = crate::trust::sandbox::Grants::default();
        }
        let (policy, info) = (self.policy.clone(), self.info.clone());
        let plugin = Plugin::load(
            &self.engine,
            file,
            granted,
            info,
            options.clone(),
            policy,
            &mut profile,
        )
        .await?;
        let plugin = Arc::new(plugin);
        let setting_up = Instant::now();
        let called = plugin.setup().await;
        called.result?;

        // Check everything the plugin contributes before keeping any of it.
        let kept_services = self.registry.services();
        let mut commands: Vec<AppCommand> = Vec::new();
        let mut services: Vec<Arc<Registered>> = Vec::new();
        let mut declared: Vec<ConfigKey> = Vec::new();
        let (mut ops, mut rest) = (called.ops, Requests::default());
        let lazy = file_lazy;
        let undeclared = |cause: String| LoadError::Undeclared {
            name: name.clone(),
            path: shown.clone(),
            cause,
        };
        while let Some((op, counted)) = ops.next() {
            if let Some(lazy) = &lazy {
                lazy::check_op(lazy, &op).map_err(undeclared)?;
            }
            match op {
                HostOp::AddCommand(spec) => {
                    let command = self.new_command((&name, &shown), &spec, &commands)?;
                    commands.push(AppCommand {
                        command,
                        runner: Runner::Plugin(plugin.clone()),
                    });
                }
                HostOp::AddService(service, command) => {
                    let other = kept_services
                        .iter()
                        .filter(|s| s.plugin_name() != Some(name.as_str()))
                        .chain(&services)
                        .find(|s| s.name() == service);
                    if let Some(other) = other {
                        return Err(LoadError::Clash {
                            name: name.clone(),
                            path: shown.clone(),
                            what: "the service",
                            item: service,
                            owner: other.owner(),
                        });
                    }
                    services.push(Arc::new(Registered::plugin(
                        plugin.clone(),
                        service,
                        command,
                    )));
                }
                HostOp::DeclareConfig(key) => {
                    declared.retain(|k| k.key != key.key);
                    declared.push(key);
                }
                op => rest.push(op, counted),
            }
        }
        if let Some(lazy) = &lazy {
            let added: Vec<&str> = commands.iter().map(|c| c.command.get_name()).collect();
            lazy::check_commands_added(lazy, &added).map_err(undeclared)?;
        }
        check_config(&name, &options, &declared).map_err(|cause| LoadError::Config {
            name: name.clone(),
            cause,
        })?;
        Ok(Candidate {
            plugin,
            requests: rest,
            setting_up,
            contributed: Contributed {
                source,
                commands,
                services,
                declared,
                profile,
            },
        })
    }

    /// Checks `file`, granted `granted`, against the lockfile or record
    /// that pins it, if one does.
    pub(crate) fn check_lock(
        &self,
        file: &PluginFile,
        granted: &[Granted],
    ) -> Result<(), LoadError> {
        let Some(lock) = self.locks.lock_for(&file.path) else {
            return Ok(());
        };
        lock.file
            .check(&file.locked(granted))
            .map_err(|change| LoadError::Locked {
                name: file.name.clone(),
                path: file.shown.clone(),
                lockfile: lock.path.display().to_string(),
                change,
                accept: lock.accept.clone(),
            })
    }

    /// The command `spec` that the plugin `(name, shown)` adds, checked:
    /// usable on a command line, and named as no command the application
    /// keeps (but the plugin's own, which it replaces) nor of `added` is.
    pub(crate) fn new_command(
        &self,
        (name, shown): (&str, &str),
        spec: &CommandSpec,
        added: &[AppCommand],
    ) -> Result<Command, LoadError> {
        let command = command_spec::command_from_spec(spec, &self.args).map_err(|cause| {
            LoadError::BadCommand {
                name: name.to_string(),
                path: shown.to_string(),
                cause,
            }
        })?;
        let added = added.iter().find(|c| c.command.get_name() == spec.name);
        let owner = added.map(AppCommand::owner);
        match owner.or_else(|| self.registry.command_owner(&spec.name, name)) {
            Some(owner) => Err(LoadError::Clash {
                name: name.to_string(),
                path: shown.to_string(),
                what: "the command",
                item: spec.name.clone(),
                owner,
            }),
            None => Ok(command),
        }
    }

    /// Keeps a new plugin: its commands, services and configuration keys
    /// are added and it is known to the fault policy. What it asked for in
    /// `setup` (subscriptions, dispatches, timers) is returned, to carry
    /// out with [`Events::apply`].
    pub(crate) fn keep(&self, candidate: Candidate) -> (Arc<Plugin>, Requests) {
        let Candidate {
            plugin,
            requests,
            setting_up,
            mut contributed,
        } = candidate;
        let name = plugin.name().to_string();
        if contributed.source.options.fatal {
            self.events.faults().mark_fatal(&name);
        }
        self.events.register(&plugin);
        for service in &contributed.services {
            self.info.services.add(service.name(), service.running());
        }
        contributed.profile.setup = setting_up.elapsed();
        tracing::debug!(
            "loaded {} in {:.1?} (compile cache: {:?})",
            crate::io::text::Clean::new(&name),
            contributed.profile.total(),
            contributed.profile.cache
        );
        self.registry.keep(&plugin, contributed);
        (plugin, requests)
    }
}

/// A plugin loaded and set up, with what it contributes, checked but not
/// kept yet.
pub(crate) struct Candidate {
    /// The plugin, set up.
    pub(crate) plugin: Arc<Plugin>,
    /// What it asked for in `setup` besides what it contributes:
    /// subscriptions, dispatches, timers.
    pub(crate) requests: Requests,
    /// When its `setup` began.
    pub(crate) setting_up: Instant,
    /// Its commands, services and configuration keys, checked.
    pub(crate) contributed: Contributed,
}

/// Checks the plugin's configuration values against what it declared: every
/// key declared, every value of its default's type.
fn check_config(
    plugin: &str,
    options: &PluginOptions,
    declared: &[ConfigKey],
) -> Result<(), String> {
    let source = options.config_source.as_deref().unwrap_or("configuration");
    for (key, value) in &options.config {
        let at = format!("{source}: plugin.{plugin}.config.{key}");
        let Some(declared) = declared.iter().find(|k| k.key == *key) else {
            let known: Vec<&str> = declared.iter().map(|k| k.key.as_str()).collect();
            return Err(format!(
                "{at}: unknown key; {plugin} declares {}",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        };
        if !crate::model::value::same_kind(&declared.default, value) {
            return Err(format!(
                "{at}: expected {} like the default {}, found {}",
                crate::model::value::kind_name(&declared.default),
                declared.default,
                crate::model::value::kind_name(value)
            ));
        }
    }
    Ok(())
}
