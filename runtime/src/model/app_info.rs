//! What plugins can see of the application: its name and version, its
//! shared variables, which services run, and where their standard output
//! and log messages go.

use crate::io::logging::PluginLog;
use crate::io::output::PluginStdout;
use crate::model::service_states::ServiceStates;
use crate::model::vars::Vars;

/// What plugins can see of the application.
pub(crate) struct AppInfo {
    pub(crate) prog_name: String,
    pub(crate) version: String,
    pub(crate) vars: Vars,
    pub(crate) services: ServiceStates,
    pub(crate) stdout: PluginStdout,
    pub(crate) log: PluginLog,
}
