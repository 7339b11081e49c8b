//! The fault policy, in one place: how a plugin failure is reported, when
//! it disables the plugin, when it ends the run, and how repeated failures
//! stay bounded (the first few per plugin and export are printed, the rest
//! counted and summarised; a plugin that keeps failing is disabled).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

use crate::io::logging;
use crate::io::text::Clean;
use crate::model::error::{FailureKind, PluginFailure};

/// How many failures per plugin and export are printed; later ones are
/// counted and summarised at the end of the run.
pub const SHOWN_PER_EXPORT: u32 = 3;

/// How many failures are kept for [`Events::failures`](crate::Events::failures).
const KEPT: usize = 100;

/// Failures reported so far, and what they decided.
#[derive(Default)]
pub(crate) struct Faults {
    state: Mutex<State>,
    fail_fast: AtomicBool,
    fatal: AtomicBool,
    fatal_notify: Notify,
}

#[derive(Default)]
struct State {
    kept: Vec<PluginFailure>,
    shown: HashMap<(String, &'static str), u32>,
    printed: HashSet<String>,
    hidden: BTreeMap<(String, &'static str), u64>,
    errors: HashMap<String, u32>,
    max_errors: HashMap<String, u32>,
    fatal_plugins: HashSet<String>,
}

/// What a reported failure decided about its plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The plugin stays loaded.
    Keep,
    /// The plugin is disabled: it trapped, timed out, went past a limit or
    /// failed too often.
    Disable,
}

impl Faults {
    /// Reports `failure`: one line on standard error (unless this plugin and
    /// export have failed often already), kept for the exit status.
    pub(crate) fn report(&self, failure: PluginFailure) -> Verdict {
        let mut state = self.state.lock().unwrap();
        let mut verdict = if failure.kind.disables() {
            Verdict::Disable
        } else {
            Verdict::Keep
        };
        let mut failures = vec![failure];
        if verdict == Verdict::Keep {
            let failure = &failures[0];
            let errors = state.errors.entry(failure.plugin.clone()).or_default();
            *errors += 1;
            let errors = *errors;
            if state.max_errors.get(&failure.plugin) == Some(&errors) {
                verdict = Verdict::Disable;
                failures.push(PluginFailure {
                    plugin: failure.plugin.clone(),
                    kind: FailureKind::Limit,
                    export: failure.export,
                    event: None,
                    cause: format!("failed {errors} times; disabled (max-errors)"),
                });
            }
        }
        for failure in failures {
            state.show(&failure);
            let fatal = self.fail_fast.load(Ordering::Acquire)
                || state.fatal_plugins.contains(&failure.plugin);
            if state.kept.len() < KEPT {
                state.kept.push(failure);
            }
            if fatal {
                self.fatal.store(true, Ordering::Release);
                self.fatal_notify.notify_waiters();
            }
        }
        verdict
    }

    /// Every failure kept so far, in order (the first hundred).
    pub(crate) fn kept(&self) -> Vec<PluginFailure> {
        self.state.lock().unwrap().kept.clone()
    }

    /// Prints how many failures were counted but not shown, one line per
    /// plugin and export, and forgets them.
    pub(crate) fn summarise(&self) {
        let hidden = std::mem::take(&mut self.state.lock().unwrap().hidden);
        for ((plugin, export), count) in hidden {
            eprintln!(
                "error: plugin '{}' failed {count} more time(s) in {export} (not shown)",
                Clean::new(&plugin)
            );
        }
    }

    /// Counts the errors of the plugin `plugin` from zero (a plugin loaded
    /// again starts afresh), and disables it after `max` of them (errors it
    /// returned); `None` for never.
    pub(crate) fn set_max_errors(&self, plugin: &str, max: Option<u32>) {
        let mut state = self.state.lock().unwrap();
        state.errors.remove(plugin);
        match max {
            Some(max) => state.max_errors.insert(plugin.to_string(), max),
            None => state.max_errors.remove(plugin),
        };
    }

    /// Forgets everything kept about the plugin `plugin` but its failures:
    /// it was unloaded, and another may come under its name.
    pub(crate) fn forget(&self, plugin: &str) {
        let mut state = self.state.lock().unwrap();
        state.errors.remove(plugin);
        state.max_errors.remove(plugin);
        state.fatal_plugins.remove(plugin);
        state.shown.retain(|(name, _), _| name != plugin);
    }

    /// Makes every plugin failure fatal (or none, unless marked).
    pub(crate) fn set_fail_fast(&self, fail_fast: bool) {
        self.fail_fast.store(fail_fast, Ordering::Release);
    }

    /// Makes the failures of the plugin `plugin` fatal.
    pub(crate) fn mark_fatal(&self, plugin: &str) {
        let mut state = self.state.lock().unwrap();
        state.fatal_plugins.insert(plugin.to_string());
    }

    /// Whether a fatal failure was reported.
    pub(crate) fn is_fatal(&self) -> bool {
        self.fatal.load(Ordering::Acquire)
    }

    /// Waits until a fatal failure is reported (returns at once if one was).
    pub(crate) async fn fatal(&self) {
        let notified = self.fatal_notify.notified();
        if !self.is_fatal() {
            notified.await;
        }
    }
}

impl State {
    /// Prints `failure` unless the same line was printed already or its
    /// plugin and export have had their share of lines.
    fn show(&mut self, failure: &PluginFailure) {
        let key = (failure.plugin.clone(), failure.export);
        let shown = self.shown.entry(key.clone()).or_default();
        let line = failure.to_string();
        let crowded = *shown >= SHOWN_PER_EXPORT && !failure.kind.disables();
        if crowded || self.printed.contains(&line) {
            *self.hidden.entry(key).or_default() += 1;
            return;
        }
        *shown += 1;
        logging::report(&line);
        self.printed.insert(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(n: u32) -> PluginFailure {
        PluginFailure {
            plugin: "p".into(),
            kind: FailureKind::Error,
            export: "on-event",
            event: Some("go".into()),
            cause: format!("error {n}"),
        }
    }

    #[test]
    fn repeated_failures_are_counted_and_a_plugin_that_keeps_failing_is_disabled() {
        let faults = Faults::default();
        faults.set_max_errors("p", Some(5));
        let verdicts: Vec<Verdict> = (1..=5).map(|n| faults.report(error(n))).collect();
        assert_eq!(verdicts[..4], [Verdict::Keep; 4]);
        assert_eq!(verdicts[4], Verdict::Disable);
        let state = faults.state.lock().unwrap();
        // Three lines shown, the other two errors counted; the disabling is
        // always shown.
        assert_eq!(state.hidden[&("p".to_string(), "on-event")], 2);
        assert_eq!(state.kept.len(), 6);
        assert_eq!(state.kept[5].kind, FailureKind::Limit);
    }
}
