//! The `timers` import: setting and cancelling a plugin's timers, booked
//! against its bound in its `TimerBook` and started by the dispatcher.

use super::*;
use crate::host::timers::Timer;
use crate::model::value::payload_size;

/// The `timers` import.
impl HostState {
    /// Books a timer that dispatches `event` after `ms` milliseconds, and
    /// again every `ms` when `repeat`; its id, or why it was not set.
    pub(crate) fn set_timer(
        &mut self,
        ms: u32,
        repeat: bool,
        event: String,
        payload: Payload,
    ) -> wasmtime::Result<Result<u64, String>> {
        self.check_name(&event)?;
        let size = payload_size(&payload);
        self.check_size(size)?;
        self.alive()?;
        let booked = self
            .timers
            .book(event.len() + size, self.budget().pending_bytes);
        let id = match booked {
            Ok(id) => id,
            Err(why) => return Ok(Err(why)),
        };
        let delay = crate::host::timers::delay(ms);
        let timer = Timer {
            id,
            delay,
            every: repeat.then_some(delay),
            event,
            payload,
            book: self.timers.clone(),
        };
        if let Err(error) = self.record(HostOp::SetTimer(timer)) {
            self.timers.release(id);
            return Err(error.into());
        }
        Ok(Ok(id))
    }

    /// The plugin's timers, shared with their tasks.
    pub(crate) fn timers(&self) -> &Arc<TimerBook> {
        &self.timers
    }

    /// Ends the plugin's timer `id`, if it is running.
    pub(crate) fn cancel_timer(&mut self, id: u64) {
        self.timers.cancel(id);
    }
}
