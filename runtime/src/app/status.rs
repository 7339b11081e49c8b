//! Exit statuses, one per way a run can end.

/// How a run of the application ended; [`ExitStatus::code`] is the process
/// exit code. When several apply, the first in this list wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// The command line was wrong (clap's usage error): exit code 2.
    Usage,
    /// The run was interrupted by Ctrl-C or SIGTERM: exit code 130.
    Interrupted,
    /// A service failed to set up, start or stop: exit code 5. When setup or
    /// start fails the command does not run.
    ServiceFailed,
    /// The command itself failed: exit code 1.
    CommandFailed,
    /// A loaded plugin failed while running (returned an error, trapped or
    /// went past a limit): exit code 4.
    PluginFailed,
    /// A plugin could not be loaded (bad file, wrong world, failed setup):
    /// exit code 3. The other plugins still ran.
    PluginNotLoaded,
    /// Everything went well: exit code 0.
    Success,
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::CommandFailed => 1,
            ExitStatus::Usage => 2,
            ExitStatus::PluginNotLoaded => 3,
            ExitStatus::PluginFailed => 4,
            ExitStatus::ServiceFailed => 5,
            ExitStatus::Interrupted => 130,
        }
    }

    /// The more important of two statuses.
    pub fn max(self, other: ExitStatus) -> ExitStatus {
        // Variants are declared from most to least important.
        if (self as u8) <= (other as u8) {
            self
        } else {
            other
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_more_important_status_wins() {
        assert_eq!(
            ExitStatus::Success.max(ExitStatus::PluginNotLoaded),
            ExitStatus::PluginNotLoaded
        );
        assert_eq!(
            ExitStatus::PluginFailed.max(ExitStatus::PluginNotLoaded),
            ExitStatus::PluginFailed
        );
        assert_eq!(
            ExitStatus::Usage.max(ExitStatus::Success),
            ExitStatus::Usage
        );
    }
}
