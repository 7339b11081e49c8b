//! Services: things that run alongside the application, set up and started
//! before the command and stopped after it, each announcing every step with
//! the event `{name}_setup`, `{name}_start` or `{name}_stop` (payload:
//! `service`, its name). Native services and plugin services are peers.

pub use crate::model::service_states::ServiceStates;
use crate::wit::ServiceStep;

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::future::join_all;

use crate::events::Events;
use crate::io::task::Spawned;
use crate::io::text::Clean;
use crate::model::error::FailureKind;
use crate::model::value::Value;
use crate::model::vars::Vars;
use crate::plugin::Plugin;

/// The error a native service returns.
pub type ServiceError = Box<dyn Error + Send + Sync>;

/// What a native service gets in `setup`: the application's dispatcher and
/// variables.
#[derive(Clone)]
pub struct ServiceContext {
    /// The application's dispatcher, e.g. to subscribe.
    pub events: Events,
    /// The application's variables.
    pub vars: Vars,
    /// Which of the application's services are running.
    pub services: crate::model::service_states::ServiceStates,
}

/// A native service. Every step has a default that does nothing.
#[async_trait::async_trait]
pub trait Service: Send + 'static {
    /// The service's name: its events are `{name}_setup`, `{name}_start`
    /// and `{name}_stop`.
    fn name(&self) -> &str;

    /// Prepares the service before any service starts, e.g. subscribes.
    async fn setup(&mut self, app: &ServiceContext) -> Result<(), ServiceError> {
        let _ = app;
        Ok(())
    }

    /// Starts the service; services start concurrently.
    async fn start(&mut self) -> Result<(), ServiceError> {
        Ok(())
    }

    /// Stops the service after the command; services stop concurrently.
    async fn stop(&mut self) -> Result<(), ServiceError> {
        Ok(())
    }
}

/// A service step that failed. A plugin service's failure reads like every
/// other plugin failure: `plugin 'NAME' failed in service-start(SERVICE): …`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ServiceFailure {
    /// The service's name.
    pub service: String,
    /// The plugin that provides it; `None` for a native service.
    pub plugin: Option<String>,
    /// How it failed.
    pub kind: FailureKind,
    /// The step: `setup`, `start` or `stop`.
    pub step: &'static str,
    /// The cause, in one line.
    pub cause: String,
    /// Whether the fault policy reported it as it happened.
    reported: bool,
}

impl ServiceFailure {
    /// Writes it as one line on standard error, unless the fault policy
    /// did already: a plugin's failure is reported (and counted towards
    /// its `max-errors` and fail-fast) as it happens.
    pub fn report(&self) {
        if !self.reported {
            crate::io::logging::report(self);
        }
    }
}

impl fmt::Display for ServiceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (service, cause) = (Clean::new(&self.service), Clean::new(&self.cause));
        match &self.plugin {
            Some(plugin) => write!(
                f,
                "plugin '{}' {} in service-{}({service}): {cause}",
                Clean::new(plugin),
                self.kind,
                self.step
            ),
            None => write!(
                f,
                "service '{service}' {} in {}: {cause}",
                self.kind, self.step
            ),
        }
    }
}

/// Who runs a service.
enum Provider {
    Native(tokio::sync::Mutex<Box<dyn Service>>),
    Plugin(Arc<Plugin>),
}

/// A service known to the application.
pub(crate) struct Registered {
    name: String,
    command: Option<String>,
    provider: Provider,
    running: Arc<AtomicBool>,
}

impl Registered {
    /// A native service; with `command`, it runs only for that command.
    pub(crate) fn native(service: Box<dyn Service>, command: Option<String>) -> Self {
        Registered {
            name: service.name().to_string(),
            command,
            provider: Provider::Native(tokio::sync::Mutex::new(service)),
            running: Arc::default(),
        }
    }

    /// The service `name` of `plugin`.
    pub(crate) fn plugin(plugin: Arc<Plugin>, name: String, command: Option<String>) -> Self {
        Registered {
            name,
            command,
            provider: Provider::Plugin(plugin),
            running: Arc::default(),
        }
    }

    /// The service's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The plugin that provides it, if any.
    pub(crate) fn plugin_name(&self) -> Option<&str> {
        match &self.provider {
            Provider::Native(_) => None,
            Provider::Plugin(plugin) => Some(plugin.name()),
        }
    }

    /// Who provides it, as an error names them.
    pub(crate) fn owner(&self) -> String {
        self.plugin_name()
            .map_or("the application".into(), |p| format!("plugin '{p}'"))
    }

    /// Its running state, to share with [`ServiceStates`].
    pub(crate) fn running(&self) -> Arc<AtomicBool> {
        self.running.clone()
    }

    /// Whether it started and has not been stopped since.
    pub(crate) fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    /// The one command it runs with, if any.
    pub(crate) fn command(&self) -> Option<&str> {
        self.command.as_deref()
    }

    /// Whether it runs when `command` (`None`: no command) runs: it belongs
    /// to every command or to this one, and its plugin is not disabled.
    pub(crate) fn runs_for(&self, command: Option<&str>) -> bool {
        let enabled = match &self.provider {
            Provider::Native(_) => true,
            Provider::Plugin(plugin) => !plugin.is_disabled(),
        };
        enabled && (self.command.is_none() || self.command.as_deref() == command)
    }

    /// Runs one step, then dispatches `{name}_{step}`. A failed setup or
    /// start dispatches nothing; a stop is announced even when it failed,
    /// since the service no longer runs either way.
    async fn step(&self, step: ServiceStep, app: &ServiceContext) -> Result<(), ServiceFailure> {
        let result = self.call(step, app).await;
        match step {
            ServiceStep::Start if result.is_ok() => self.running.store(true, Ordering::SeqCst),
            ServiceStep::Stop => self.running.store(false, Ordering::SeqCst),
            _ => {}
        }
        if result.is_ok() || step == ServiceStep::Stop {
            let event = format!("{}_{}", self.name, step.as_str());
            let payload = vec![("service".to_string(), Value::Text(self.name.clone()))];
            app.events.dispatch(&event, payload).await;
        }
        result
    }

    async fn call(&self, step: ServiceStep, app: &ServiceContext) -> Result<(), ServiceFailure> {
        let failure = |kind, cause| ServiceFailure {
            service: self.name.clone(),
            plugin: self.plugin_name().map(str::to_string),
            kind,
            step: step.as_str(),
            cause,
            reported: false,
        };
        match &self.provider {
            Provider::Native(service) => {
                let mut service = service.lock().await;
                let result = match step {
                    ServiceStep::Setup => service.setup(app).await,
                    ServiceStep::Start => service.start().await,
                    ServiceStep::Stop => service.stop().await,
                };
                result.map_err(|e| failure(FailureKind::Error, e.to_string()))
            }
            Provider::Plugin(plugin) => {
                let Some(called) = plugin.service(step, &self.name).await else {
                    // A plugin disabled while running cannot be asked to
                    // stop; its failure was reported when it happened.
                    if step == ServiceStep::Stop {
                        return Ok(());
                    }
                    return Err(failure(FailureKind::Error, "the plugin is disabled".into()));
                };
                app.events.apply(plugin, called.ops, 0).await;
                called.result.map_err(|f| {
                    let failed = failure(f.kind, f.cause.clone());
                    // The fault policy shows it, counts it and decides
                    // whether the plugin stays.
                    app.events.report(f);
                    ServiceFailure {
                        reported: true,
                        ..failed
                    }
                })
            }
        }
    }
}

/// The services of one run.
#[derive(Clone, Default)]
pub(crate) struct Run {
    services: Vec<Arc<Registered>>,
}

impl Run {
    /// The services that run when `command` runs: the global ones, then
    /// the command's own (as precept chains them), each in registration
    /// order.
    pub(crate) fn new(all: &[Arc<Registered>], command: Option<&str>) -> Self {
        let (global, own): (Vec<_>, Vec<_>) = all
            .iter()
            .filter(|s| s.runs_for(command))
            .cloned()
            .partition(|s| s.command().is_none());
        Run {
            services: global.into_iter().chain(own).collect(),
        }
    }

    /// The run of just `services`, e.g. to restart them.
    pub(crate) fn of(services: Vec<Arc<Registered>>) -> Self {
        Run { services }
    }

    /// Leaves `services` out of the run.
    pub(crate) fn forget(&mut self, services: &[Arc<Registered>]) {
        self.services
            .retain(|s| !services.iter().any(|gone| Arc::ptr_eq(s, gone)));
    }

    /// Sets up every service, one after another; stops at the first that
    /// fails.
    pub(crate) async fn setup(&self, app: &ServiceContext) -> Result<(), Vec<ServiceFailure>> {
        for service in &self.services {
            service
                .step(ServiceStep::Setup, app)
                .await
                .map_err(|failure| vec![failure])?;
        }
        Ok(())
    }

    /// Sets up every service, then starts them.
    pub(crate) async fn setup_and_start(
        &self,
        app: &ServiceContext,
    ) -> Result<(), Vec<ServiceFailure>> {
        self.setup(app).await?;
        self.start(app).await
    }

    /// Starts every service concurrently, each on a task of its own (in
    /// parallel on a multi-threaded runtime); the failures, if any. The
    /// ones that started run until [`Run::stop`].
    pub(crate) async fn start(&self, app: &ServiceContext) -> Result<(), Vec<ServiceFailure>> {
        let results = join_all(self.each(ServiceStep::Start, app, 0..self.services.len())).await;
        let failures: Vec<ServiceFailure> = results.into_iter().filter_map(Result::err).collect();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures)
        }
    }

    /// Stops every running service of the run concurrently.
    pub(crate) async fn stop(&self, app: &ServiceContext) -> Vec<ServiceFailure> {
        let running = (0..self.services.len()).filter(|&i| self.services[i].is_running());
        join_all(self.each(ServiceStep::Stop, app, running))
            .await
            .into_iter()
            .filter_map(Result::err)
            .collect()
    }

    /// `step` of the services at `indices`, each on a task of its own.
    fn each(
        &self,
        step: ServiceStep,
        app: &ServiceContext,
        indices: impl IntoIterator<Item = usize>,
    ) -> Vec<Spawned<Result<(), ServiceFailure>>> {
        indices
            .into_iter()
            .map(|i| {
                let (service, app) = (self.services[i].clone(), app.clone());
                Spawned::new(async move { service.step(step, &app).await })
            })
            .collect()
    }
}
