//! The `log` import: a plugin's log lines, bounded in length and rate.

use super::*;

/// The `log` import.
impl HostState {
    pub(crate) fn log(&mut self, level: Level, message: &str) {
        let captured = self.app.log.is_capturing();
        if !captured && !crate::io::logging::enabled(level) {
            return;
        }
        if !self.log_rate.take() {
            crate::io::logging::dropped(&self.plugin);
            return;
        }
        let mut end = message.len().min(self.budget().log_line_bytes);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let message = &message[..end];
        if !self.app.log.keep(&self.plugin, level, message) {
            crate::io::logging::plugin_message(&self.plugin, level, message);
        }
    }
}

/// Allows `rate` events per second, in bursts of up to `rate`.
pub(super) struct TokenBucket {
    rate: f64,
    tokens: f64,
    refilled: Instant,
}

impl TokenBucket {
    pub(super) fn new(rate: u32) -> Self {
        TokenBucket {
            rate: f64::from(rate),
            tokens: f64::from(rate),
            refilled: Instant::now(),
        }
    }

    /// Takes one token; `false` when there is none.
    pub(super) fn take(&mut self) -> bool {
        let now = Instant::now();
        let earned = now.duration_since(self.refilled).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + earned).min(self.rate);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
