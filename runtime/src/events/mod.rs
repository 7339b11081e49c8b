//! The event dispatcher, with precept's semantics.
//!
//! Subscribers of a name are called in subscription order, one after the
//! other; a subscriber that returns [`Flow::Stop`] ends the loop, otherwise
//! the event's `num` goes up by one. Dispatching a name nobody subscribed to
//! does nothing. Native handlers and plugins are peers in the same list.
//!
//! A plugin cannot be entered while it is running, so what a plugin asks
//! during a call (subscribe, unsubscribe, dispatch) is carried out when the
//! call returns: its dispatches are delivered right then, in order and in
//! full, before the event it was handling moves on to its next subscriber.
//! This is the order an `await`ed nested dispatch would give, moved to the
//! end of the handler. Cascades are bounded by [`MAX_DISPATCH_DEPTH`], and
//! each top-level dispatch carries a delivery budget
//! ([`MAX_DELIVERIES_PER_DISPATCH`], [`MAX_DISPATCH_TIME`]) through every
//! nested dispatch, native re-dispatches included.

pub(crate) mod faults;
mod sleeping;
mod table;
pub(crate) mod trace;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::events::faults::{Faults, Verdict};
use crate::events::trace::{Dispatched, EventTrace, Outcome, Reached};
use crate::host::requests::{Counted, HostOp, Requests};
use crate::host::timers::{Timer, Timers};
use crate::model::error::{FailureKind, PluginFailure};
pub use crate::model::event::{Event, Flow};
use crate::model::value::{Payload, payload_size};
use crate::plugin::{Called, Now, Plugin};
pub(crate) use sleeping::Sleeper;

/// How deep dispatches made from inside handlers may nest. A dispatch past
/// this depth is dropped, and the plugin that made it is reported and
/// disabled.
pub const MAX_DISPATCH_DEPTH: usize = 32;

/// How many deliveries (subscriber calls) the dispatches caused by one
/// top-level dispatch may make together. Past it the cascade ends, and the
/// plugin that made more than half of its dispatches is reported and
/// disabled.
pub const MAX_DELIVERIES_PER_DISPATCH: usize = 10_000;

/// How long one top-level dispatch and every dispatch it causes may take
/// together, by the clock. Past it the cascade ends; no plugin is blamed
/// for the time (a slow subscriber and a busy dispatcher cannot be told
/// apart), and each call is bounded by its own clock bound anyway.
pub const MAX_DISPATCH_TIME: Duration = Duration::from_secs(30);

/// The budget of one top-level dispatch, shared by everything it causes,
/// and how many of its dispatches each plugin made: a cascade cut for its
/// deliveries blames the plugin that made most of them, not the one whose
/// delivery happened to go past (and none when no plugin made more than
/// half).
struct Cascade {
    deliveries: AtomicUsize,
    dispatches: AtomicUsize,
    started: Instant,
    ended: AtomicBool,
    made: Mutex<Vec<(Arc<Plugin>, usize)>>,
}

/// Why a cascade was cut (`None`: it was cut before), and the plugin to
/// blame, if one is.
struct Cut {
    reason: Option<String>,
    culprit: Option<Arc<Plugin>>,
}

/// Where a delivery stands: its cascade, how deep its dispatch is, and
/// that dispatch's number in the event trace (when one is written).
#[derive(Clone)]
struct Scope {
    cascade: Arc<Cascade>,
    depth: usize,
    dispatch: Option<u64>,
}

/// The cascade a dispatch belongs to: the one of the delivery that made
/// it, or, for a top-level dispatch, one made only when something in it
/// first needs it (a dispatch from a handler): an event no handler of
/// which dispatches allocates none.
struct CascadeSlot {
    cascade: OnceLock<Arc<Cascade>>,
    started: Instant,
}

impl CascadeSlot {
    /// The slot of a top-level dispatch made at `started`.
    fn starting(started: Instant) -> Self {
        CascadeSlot {
            cascade: OnceLock::new(),
            started,
        }
    }

    /// The slot of a dispatch within `cascade`.
    fn within(cascade: Arc<Cascade>) -> Self {
        let started = cascade.started;
        CascadeSlot {
            cascade: OnceLock::from(cascade),
            started,
        }
    }

    /// The cascade, made now if it was not yet.
    fn get(&self) -> &Arc<Cascade> {
        self.cascade.get_or_init(|| Cascade::new(self.started))
    }
}

tokio::task_local! {
    /// The cascade of the native handler running on this task, so that a
    /// dispatch it awaits counts against the same budget, one level deeper.
    static SCOPE: Scope;
}

impl Cascade {
    /// The budget of a top-level dispatch made at `started`.
    fn new(started: Instant) -> Arc<Self> {
        Arc::new(Cascade {
            deliveries: AtomicUsize::new(0),
            dispatches: AtomicUsize::new(0),
            started,
            ended: AtomicBool::new(false),
            made: Mutex::new(Vec::new()),
        })
    }

    /// Counts one dispatch made inside the cascade by `by` (`None`: native
    /// code).
    fn dispatched(&self, by: Option<&Arc<Plugin>>) {
        self.dispatches.fetch_add(1, Ordering::AcqRel);
        let Some(by) = by else { return };
        let mut made = self.made.lock().unwrap();
        match made.iter_mut().find(|(p, _)| Arc::ptr_eq(p, by)) {
            Some((_, count)) => *count += 1,
            None => made.push((by.clone(), 1)),
        }
    }

    /// The plugin that made more than half of the cascade's dispatches, if
    /// one did.
    fn most_dispatches(&self) -> Option<Arc<Plugin>> {
        let half = self.dispatches.load(Ordering::Acquire) / 2;
        let made = self.made.lock().unwrap();
        let most = made.iter().max_by_key(|(_, count)| *count);
        most.filter(|(_, count)| *count > half)
            .map(|(plugin, _)| plugin.clone())
    }

    /// Spends one delivery; why not, and whom to blame, when the budget is
    /// gone.
    fn spend(&self) -> Result<(), Cut> {
        if self.ended.load(Ordering::Acquire) {
            let (reason, culprit) = (None, None);
            return Err(Cut { reason, culprit });
        }
        let deliveries = self.deliveries.fetch_add(1, Ordering::AcqRel) + 1;
        let cut = if deliveries > MAX_DELIVERIES_PER_DISPATCH {
            Cut {
                reason: Some(format!(
                    "one dispatch caused more than {MAX_DELIVERIES_PER_DISPATCH} deliveries; \
                     this plugin made most of the dispatches"
                )),
                culprit: self.most_dispatches(),
            }
        } else if self.started.elapsed() > MAX_DISPATCH_TIME {
            Cut {
                reason: Some(format!(
                    "one dispatch and what it caused took longer than {MAX_DISPATCH_TIME:?}"
                )),
                culprit: None,
            }
        } else {
            return Ok(());
        };
        self.ended.store(true, Ordering::Release);
        Err(cut)
    }
}

/// What a dispatch begun in place leaves to deliver asynchronously.
enum Pending {
    /// All of it: the payload, untouched.
    Untouched(Payload),
    /// The rest of a dispatch begun (boxed: it is large, and rarer).
    Begun(Box<Begun>),
}

/// A top-level dispatch begun in place, made at `started` (its cascade's
/// start), to go on with asynchronously.
struct Begun {
    delivering: Delivering,
    started: Instant,
}

/// An event on its way to its subscribers, from its `from`th on; `made`
/// is what that subscriber's synchronous call gave, if it was made before.
struct Delivering {
    event: Event,
    subscribers: Arc<[Entry]>,
    from: usize,
    made: Option<(Called<bool>, bool)>,
}

/// Identifies one native subscription, to unsubscribe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriptionId(u64);

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
type Handler = Arc<dyn Fn(Event) -> BoxFuture<'static, Flow> + Send + Sync>;
type ImmediateHandler = Arc<dyn Fn(&Event) -> Flow + Send + Sync>;

#[derive(Clone)]
enum Subscriber {
    Native(Handler),
    /// A native handler that answers at once, without awaiting.
    Immediate(ImmediateHandler),
    Plugin(Arc<Plugin>),
    /// A plugin not loaded yet, loaded when the event occurs.
    Sleeping(Arc<dyn Sleeper>),
}

#[derive(Clone)]
struct Entry {
    id: SubscriptionId,
    subscriber: Subscriber,
}

impl Entry {
    /// Whether it is `plugin`'s subscription.
    fn is_plugin(&self, plugin: &Arc<Plugin>) -> bool {
        matches!(&self.subscriber, Subscriber::Plugin(p) if Arc::ptr_eq(p, plugin))
    }

    /// Whether it is the subscription of a plugin named `name`.
    fn is_plugin_named(&self, name: &str) -> bool {
        matches!(&self.subscriber, Subscriber::Plugin(p) if p.name() == name)
    }
}

/// The application's event dispatcher. Cloning gives another handle to the
/// same dispatcher.
#[derive(Clone, Default)]
pub struct Events {
    inner: Arc<Dispatcher>,
}

#[derive(Default)]
struct Dispatcher {
    table: Mutex<table::Table<Entry>>,
    next_id: AtomicU64,
    faults: Faults,
    plugins: Mutex<HashMap<String, Weak<Plugin>>>,
    timers: Timers,
    /// Whether `trace` holds a trace: the one load an untraced dispatch pays.
    traced: AtomicBool,
    trace: RwLock<Option<Arc<EventTrace>>>,
}

impl Events {
    /// An empty dispatcher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Calls `handler` for every event named `name`, after the subscribers
    /// already there.
    pub fn subscribe<F, Fut>(&self, name: &str, handler: F) -> SubscriptionId
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Flow> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |event| Box::pin(handler(event)));
        self.push(name, Subscriber::Native(handler))
    }

    /// Calls `handler` for every event named `name`, after the subscribers
    /// already there, for a handler that answers at once: it is called
    /// in place, with no future, which makes it the cheapest subscriber.
    /// It cannot await, so it cannot dispatch within the event (a handler
    /// that does is [`Events::subscribe`]'s).
    pub fn subscribe_sync<F>(&self, name: &str, handler: F) -> SubscriptionId
    where
        F: Fn(&Event) -> Flow + Send + Sync + 'static,
    {
        self.push(name, Subscriber::Immediate(Arc::new(handler)))
    }

    /// Removes a native subscription; `false` if it was already gone.
    pub fn unsubscribe(&self, id: SubscriptionId) -> bool {
        let mut table = self.inner.table.lock().unwrap();
        let subscribed = |entry: &Entry| entry.id == id;
        table.edit(None, subscribed, |_, entries| {
            entries.retain(|entry| !subscribed(entry))
        })
    }

    /// Dispatches `name` with `payload` and waits until every subscriber,
    /// and every dispatch they made in turn, has handled it. Awaited inside
    /// a native handler, the dispatch is part of the handler's cascade, one
    /// level deeper.
    pub async fn dispatch(&self, name: &str, payload: Payload) {
        // Boxed: the dispatch's future is large, and one that ends at once
        // need not carry it.
        match self.dispatch_now(name, payload) {
            // Nothing awaited: spends the task's cooperative budget as an
            // awaited lock would, so that a loop of dispatches made in
            // place still lets the executor's other tasks run.
            Ok(()) => tokio::task::coop::consume_budget().await,
            Err(Pending::Untouched(payload)) => {
                Box::pin(self.dispatch_in_scope(name, payload)).await
            }
            Err(Pending::Begun(begun)) => Box::pin(self.go_on(*begun)).await,
        }
    }

    /// Delivers a top-level dispatch at once, in place, as far as it can:
    /// to subscribers that answer at once (`subscribe_sync`) and to
    /// plugins called synchronously whose call asks nothing of the
    /// dispatcher, fails nothing and runs under a tick. Nothing of that
    /// can nest, so it needs no cascade and no future. `Err` gives back
    /// what is left to deliver asynchronously: the payload untouched (a
    /// trace is written, or the dispatch is nested), or the dispatch begun.
    fn dispatch_now(&self, name: &str, payload: Payload) -> Result<(), Pending> {
        if self.inner.traced.load(Ordering::Acquire) || SCOPE.try_with(|_| ()).is_ok() {
            return Err(Pending::Untouched(payload));
        }
        let Some((name, subscribers)) = self.snapshot(name) else {
            return Ok(());
        };
        let started = Instant::now();
        let mut event = Event {
            name,
            payload: Arc::new(payload),
            num: 0,
            timestamp: micros_at(started),
        };
        for next in 0..subscribers.len() {
            let mut made = None;
            let flow = match &subscribers[next].subscriber {
                Subscriber::Immediate(handler) => Some(handler(&event)),
                Subscriber::Plugin(plugin) => match plugin.on_event_now(&event) {
                    Now::Disabled => continue,
                    Now::Done(called, false) if called.ops.is_empty() => match called.result {
                        Ok(true) => Some(Flow::Stop),
                        Ok(false) => Some(Flow::Continue),
                        Err(_) => {
                            made = Some((called, false));
                            None
                        }
                    },
                    Now::Done(called, ticked) => {
                        made = Some((called, ticked));
                        None
                    }
                    Now::Later => None,
                },
                Subscriber::Native(_) | Subscriber::Sleeping(_) => None,
            };
            let Some(flow) = flow else {
                let delivering = Delivering {
                    event,
                    subscribers,
                    from: next,
                    made,
                };
                let begun = Begun {
                    delivering,
                    started,
                };
                return Err(Pending::Begun(Box::new(begun)));
            };
            if flow == Flow::Stop {
                break;
            }
            event.num += 1;
        }
        Ok(())
    }

    /// Goes on with a top-level dispatch begun in place.
    async fn go_on(&self, begun: Begun) {
        let cascade = CascadeSlot::starting(begun.started);
        self.deliver(begun.delivering, (0, None), None, None, None, &cascade)
            .await
    }

    async fn dispatch_in_scope(&self, name: &str, payload: Payload) {
        match SCOPE.try_with(Scope::clone) {
            Ok(scope) if scope.depth >= MAX_DISPATCH_DEPTH => {
                tracing::warn!(
                    "dropped the dispatch of '{}' by a native handler: nested deeper than {MAX_DISPATCH_DEPTH}",
                    crate::io::text::Clean::new(name)
                );
            }
            Ok(scope) => {
                let at = (scope.depth + 1, scope.dispatch);
                let cascade = CascadeSlot::within(scope.cascade);
                self.dispatch_at(name, payload, at, None, &cascade).await
            }
            Err(_) => {
                let cascade = CascadeSlot::starting(Instant::now());
                self.dispatch_at(name, payload, (0, None), None, &cascade)
                    .await
            }
        }
    }

    /// Writes every dispatch and delivery from now on to `trace`; `None`
    /// stops tracing.
    pub fn trace_to(&self, trace: Option<EventTrace>) {
        let mut slot = self.inner.trace.write().unwrap();
        self.inner.traced.store(trace.is_some(), Ordering::Release);
        *slot = trace.map(Arc::new);
    }

    fn trace(&self) -> Option<Arc<EventTrace>> {
        if !self.inner.traced.load(Ordering::Acquire) {
            return None;
        }
        self.inner.trace.read().unwrap().clone()
    }

    /// How many subscribers `name` has.
    pub fn subscriber_count(&self, name: &str) -> usize {
        self.inner.table.lock().unwrap().len(name)
    }

    /// The names `plugin` is subscribed to, in no particular order.
    pub fn subscriptions_of(&self, plugin: &str) -> Vec<String> {
        let table = self.inner.table.lock().unwrap();
        table.names_with(|entry| entry.is_plugin_named(plugin))
    }

    /// Every plugin failure reported so far, in order (the first hundred;
    /// repeated ones are counted, not kept).
    pub fn failures(&self) -> Vec<PluginFailure> {
        self.inner.faults.kept()
    }

    /// Reports a plugin failure through the fault policy: one line on
    /// standard error (repeated ones are counted), kept for the exit status.
    /// A plugin that trapped, timed out, went past a limit or failed too
    /// often is disabled: its store is released and its subscriptions
    /// removed.
    pub(crate) fn report(&self, failure: PluginFailure) {
        let plugin = failure.plugin.clone();
        if self.inner.faults.report(failure) == Verdict::Disable {
            self.disable_plugin(&plugin);
        }
    }

    /// The fault policy of this dispatcher.
    pub(crate) fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// Keeps `plugin`'s subscriptions, in their places in the order, to
    /// the names its `requests` (a new instance's `setup`'s) subscribe to;
    /// ends its other subscriptions. The requests themselves are carried
    /// out afterwards.
    pub(crate) fn resubscribe(&self, plugin: &Arc<Plugin>, requests: &Requests) {
        let subscribed = requests.subscribed();
        let mut table = self.inner.table.lock().unwrap();
        table.edit(
            None,
            |entry| entry.is_plugin(plugin),
            |name, entries| {
                if !subscribed.contains(name) {
                    entries.retain(|entry| !entry.is_plugin(plugin));
                }
            },
        );
    }

    /// Knows `plugin` by name, so that the fault policy can disable it.
    pub(crate) fn register(&self, plugin: &Arc<Plugin>) {
        let mut plugins = self.inner.plugins.lock().unwrap();
        plugins.insert(plugin.name().to_string(), Arc::downgrade(plugin));
        self.inner
            .faults
            .set_max_errors(plugin.name(), plugin.limits().max_errors);
    }

    /// Forgets `plugin`: its subscriptions end and it is no longer known
    /// by name.
    pub(crate) fn forget(&self, plugin: &Arc<Plugin>) {
        self.resubscribe(plugin, &Requests::default());
        let mut plugins = self.inner.plugins.lock().unwrap();
        plugins.retain(|_, known| !std::ptr::eq(known.as_ptr(), Arc::as_ptr(plugin)));
        self.inner.faults.forget(plugin.name());
    }

    /// Whether a fatal failure was reported.
    pub(crate) fn is_fatal(&self) -> bool {
        self.inner.faults.is_fatal()
    }

    /// Waits until a fatal failure is reported (returns at once if one was).
    pub(crate) async fn fatal(&self) {
        self.inner.faults.fatal().await
    }

    /// Carries out the requests a running command of `plugin` sends, as
    /// they come, each dispatch as a dispatch of its own.
    pub(crate) async fn pump(
        &self,
        plugin: &Arc<Plugin>,
        mut requests: tokio::sync::mpsc::UnboundedReceiver<(HostOp, Counted)>,
    ) {
        while let Some((op, counted)) = requests.recv().await {
            let mut one = Requests::default();
            one.push(op, counted);
            self.apply(plugin, one, 0).await;
        }
    }

    /// Carries out what `plugin` requested during one call. Dispatches are
    /// delivered one after another, each in full, at `depth + 1`, within the
    /// cascade of the delivery that made the call (a new one if none).
    pub(crate) fn apply<'a>(
        &'a self,
        plugin: &'a Arc<Plugin>,
        ops: Requests,
        depth: usize,
    ) -> BoxFuture<'a, ()> {
        let (cascade, cause) = SCOPE
            .try_with(|scope| (CascadeSlot::within(scope.cascade.clone()), scope.dispatch))
            .unwrap_or_else(|_| (CascadeSlot::starting(Instant::now()), None));
        Box::pin(async move {
            self.apply_in(plugin, ops, (depth, cause), &cascade).await;
        })
    }

    /// Carries out `plugin`'s requests; its dispatches are made at `depth +
    /// 1`, during the dispatch `cause`.
    fn apply_in<'a>(
        &'a self,
        plugin: &'a Arc<Plugin>,
        mut ops: Requests,
        (depth, cause): (usize, Option<u64>),
        cascade: &'a CascadeSlot,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            // Each request stays counted against the plugin until it has
            // been carried out (a dispatch: delivered in full).
            while let Some((op, _counted)) = ops.next() {
                if plugin.is_disabled() || ops.maker_is_gone() {
                    // What a disabled or replaced instance asked for goes
                    // no further.
                    break;
                }
                match op {
                    HostOp::Subscribe(name) => self.subscribe_plugin(&name, plugin),
                    HostOp::Unsubscribe(name) => self.unsubscribe_plugin(&name, plugin),
                    HostOp::Dispatch(name, _) if depth >= MAX_DISPATCH_DEPTH => {
                        self.report(PluginFailure {
                            plugin: plugin.name().to_string(),
                            kind: FailureKind::Limit,
                            export: "dispatch",
                            event: Some(name),
                            cause: format!("dispatches nested deeper than {MAX_DISPATCH_DEPTH}"),
                        });
                    }
                    HostOp::Dispatch(name, payload) => {
                        let at = (depth + 1, cause);
                        self.dispatch_at(&name, payload, at, Some(plugin), cascade)
                            .await;
                    }
                    HostOp::SetupOnly(what, name) => self.report(setup_only(plugin, what, name)),
                    // Made in `setup` only, and taken by loading.
                    HostOp::AddCommand(_) | HostOp::AddService(..) | HostOp::DeclareConfig(_) => {}
                    HostOp::SetTimer(timer) => self.start_timer(plugin, timer),
                }
            }
        })
    }

    /// Delivers one dispatch made by `source` (`None`: native code) at
    /// `depth`, during the dispatch `cause`, to every subscriber, within
    /// `cascade`'s budget.
    async fn dispatch_at(
        &self,
        name: &str,
        payload: Payload,
        (depth, cause): (usize, Option<u64>),
        source: Option<&Arc<Plugin>>,
        cascade: &CascadeSlot,
    ) {
        let trace = self.trace();
        let traced = trace.as_ref().map(|trace| {
            let id = trace.dispatched(&Dispatched {
                name,
                entries: payload.len(),
                bytes: payload_size(&payload),
                depth,
                by: source.map(|p| p.name()),
                cause,
            });
            (trace, id)
        });
        let dispatch = traced.as_ref().map(|(_, id)| *id);
        if depth > 0 {
            cascade.get().dispatched(source);
        }
        let Some((name, subscribers)) = self.snapshot(name) else {
            return;
        };
        // A plugin's payload reaches only plugins whose own payload limit
        // takes it; the others are not entered with it.
        let bytes = source.map(|_| payload_size(&payload));
        // The one clock reading of a top-level dispatch is its cascade's
        // start.
        let now = if depth == 0 {
            cascade.started
        } else {
            Instant::now()
        };
        let event = Event {
            name,
            payload: Arc::new(payload),
            num: 0,
            timestamp: micros_at(now),
        };
        let delivering = Delivering {
            event,
            subscribers,
            from: 0,
            made: None,
        };
        let traced = traced.as_ref().map(|(trace, id)| (&***trace, *id));
        self.deliver(
            delivering,
            (depth, dispatch),
            traced,
            source,
            bytes,
            cascade,
        )
        .await
    }

    /// Delivers `delivering`'s event to its subscribers from its `from`th
    /// on, at `depth`, as the dispatch `dispatch` of the trace `traced`,
    /// within `cascade`'s budget; `source` made it (`None`: native code),
    /// with a payload of `bytes` (counted for a plugin's only).
    async fn deliver(
        &self,
        delivering: Delivering,
        (depth, dispatch): (usize, Option<u64>),
        traced: Option<(&EventTrace, u64)>,
        source: Option<&Arc<Plugin>>,
        bytes: Option<usize>,
        cascade: &CascadeSlot,
    ) {
        let Delivering {
            mut event,
            subscribers,
            from,
            mut made,
        } = delivering;
        for subscriber in subscribers.iter().skip(from) {
            // The event's own subscribers always get it; what it causes
            // is what the budget bounds.
            let spent = if depth == 0 {
                Ok(())
            } else {
                cascade.get().spend()
            };
            if let Err(Cut { reason, culprit }) = spent {
                if let Some((trace, id)) = traced {
                    trace.cut(id, depth, reason.as_deref().unwrap_or_default());
                }
                match (reason, culprit) {
                    (Some(reason), Some(culprit)) => self.report(PluginFailure {
                        plugin: culprit.name().to_string(),
                        kind: FailureKind::Limit,
                        export: "dispatch",
                        event: Some(event.name.to_string()),
                        cause: reason,
                    }),
                    (Some(reason), None) => {
                        tracing::warn!("a dispatch of '{}' was cut: {reason}", event.name)
                    }
                    (None, _) => {}
                }
                break;
            }
            let started = traced.map(|_| Instant::now());
            let delivered = |to: Reached, outcome: Outcome| {
                if let (Some((trace, id)), Some(started)) = (traced, started) {
                    trace.delivered(id, depth, to, outcome, started.elapsed());
                }
            };
            // A plugin not loaded yet is loaded, within this delivery's
            // cascade, and gets the event in its place if its `setup`
            // subscribed to it.
            let woken;
            let subscriber = match &subscriber.subscriber {
                Subscriber::Sleeping(sleeper) => {
                    let scope = Scope {
                        cascade: cascade.get().clone(),
                        depth,
                        dispatch,
                    };
                    match SCOPE.scope(scope, sleeper.clone().wake()).await {
                        Some(plugin) if self.is_subscribed(&event.name, &plugin) => {
                            woken = Entry {
                                id: subscriber.id,
                                subscriber: Subscriber::Plugin(plugin),
                            };
                            &woken
                        }
                        _ => continue,
                    }
                }
                _ => subscriber,
            };
            let flow = match &subscriber.subscriber {
                // Woken above, or skipped.
                Subscriber::Sleeping(_) => continue,
                Subscriber::Immediate(handler) => {
                    let flow = handler(&event);
                    delivered(Reached::Native(subscriber.id.0), flow.into());
                    flow
                }
                Subscriber::Native(handler) => {
                    let scope = Scope {
                        cascade: cascade.get().clone(),
                        depth,
                        dispatch,
                    };
                    let flow = SCOPE.scope(scope, handler(event.clone())).await;
                    delivered(Reached::Native(subscriber.id.0), flow.into());
                    flow
                }
                Subscriber::Plugin(plugin) if bytes > Some(plugin.limits().payload_bytes) => {
                    if let (Some(source), Some(bytes)) = (source, bytes) {
                        self.report(too_large(source, plugin, &event.name, bytes));
                    }
                    delivered(Reached::Plugin(plugin.name()), Outcome::Skipped);
                    continue;
                }
                Subscriber::Plugin(plugin) => {
                    // A call made in place before this went on here.
                    let now = match made.take() {
                        Some((called, ticked)) => Now::Done(called, ticked),
                        None => plugin.on_event_now(&event),
                    };
                    let (called, ticked) = match now {
                        Now::Done(called, ticked) => (called, ticked),
                        Now::Disabled => {
                            delivered(Reached::Plugin(plugin.name()), Outcome::Skipped);
                            continue;
                        }
                        Now::Later => {
                            // Boxed: the call's future is large, and a
                            // dispatch to native subscribers alone would
                            // carry it.
                            let call = Box::pin(plugin.on_event(&event));
                            let Some(called) = call.await else {
                                delivered(Reached::Plugin(plugin.name()), Outcome::Skipped);
                                continue;
                            };
                            (called, false)
                        }
                    };
                    if traced.is_some() {
                        let outcome = match &called.result {
                            Ok(true) => Outcome::Stop,
                            Ok(false) => Outcome::Continue,
                            Err(failure) => Outcome::Failed(&failure.cause),
                        };
                        delivered(Reached::Plugin(plugin.name()), outcome);
                    }
                    if !called.ops.is_empty() {
                        self.apply_in(plugin, called.ops, (depth, dispatch), cascade)
                            .await;
                    }
                    // A synchronous call that ran for a tick or more lets
                    // the executor's other tasks run, as an asynchronous
                    // one does at each tick.
                    if ticked {
                        tokio::task::yield_now().await;
                    }
                    match called.result {
                        Ok(true) => Flow::Stop,
                        Ok(false) => Flow::Continue,
                        Err(failure) => {
                            self.report(failure);
                            // A fatal failure ends the run: a call started
                            // now would be cut off midway.
                            if self.is_fatal() {
                                Flow::Stop
                            } else {
                                Flow::Continue
                            }
                        }
                    }
                }
            };
            if flow == Flow::Stop {
                break;
            }
            event.num += 1;
        }
    }

    /// Starts `plugin`'s timer: at each firing, while the timer and its
    /// plugin live and the timers are open, its event is dispatched as a
    /// dispatch of its own. A tick due while the last is still delivered is
    /// skipped.
    fn start_timer(&self, plugin: &Arc<Plugin>, timer: Timer) {
        let timers = &self.inner.timers;
        let book = timer.book.clone();
        if timers.is_closed() || !book.is_live(timer.id) || !plugin.runs_timers_of(&book) {
            book.release(timer.id);
            return;
        }
        // Weak, so that a dispatcher no one holds any more ends its timers.
        let dispatcher = Arc::downgrade(&self.inner);
        let plugin = Arc::downgrade(plugin);
        let mut closing = timers.closing();
        let task = tokio::spawn(async move {
            let mut next = tokio::time::Instant::now() + timer.delay;
            loop {
                tokio::select! {
                    () = tokio::time::sleep_until(next) => {}
                    _ = closing.changed() => break,
                    // Its instance was disabled or replaced.
                    () = book.ended() => break,
                }
                let source = plugin.upgrade().filter(|p| p.runs_timers_of(&book));
                let source = source.filter(|_| book.is_live(timer.id));
                let (Some(source), Some(inner)) = (source, dispatcher.upgrade()) else {
                    break;
                };
                let events = Events { inner };
                let payload = timer.payload.clone();
                let (at, cascade) = ((0, None), CascadeSlot::starting(Instant::now()));
                events
                    .dispatch_at(&timer.event, payload, at, Some(&source), &cascade)
                    .await;
                let Some(every) = timer.every else { break };
                next = (next + every).max(tokio::time::Instant::now());
            }
            book.release(timer.id);
        });
        timers.keep(task);
    }

    /// Ends every timer, waiting for a dispatch one has begun: no timer
    /// fires after this returns, and none starts.
    pub(crate) async fn close_timers(&self) {
        self.inner.timers.close().await;
    }

    fn push(&self, name: &str, subscriber: Subscriber) -> SubscriptionId {
        let id = SubscriptionId(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        let mut table = self.inner.table.lock().unwrap();
        table.push(name, Entry { id, subscriber });
        id
    }

    /// The subscribers of `name` as they are now, with the name as the
    /// table keeps it; `None` when it has none.
    fn snapshot(&self, name: &str) -> Option<(Arc<str>, Arc<[Entry]>)> {
        self.inner.table.lock().unwrap().get(name)
    }

    /// Subscribes `plugin` to `name` once; subscribing again changes nothing.
    fn subscribe_plugin(&self, name: &str, plugin: &Arc<Plugin>) {
        let already = self.inner.table.lock().unwrap();
        if !already.any(name, |entry| entry.is_plugin(plugin)) {
            drop(already);
            self.push(name, Subscriber::Plugin(plugin.clone()));
        }
    }

    fn unsubscribe_plugin(&self, name: &str, plugin: &Arc<Plugin>) {
        let mut table = self.inner.table.lock().unwrap();
        let subscribed = |entry: &Entry| entry.is_plugin(plugin);
        table.edit(Some(name), subscribed, |_, entries| {
            entries.retain(|entry| !subscribed(entry))
        });
    }

    /// Disables the plugin `plugin`, e.g. after it trapped: no more calls,
    /// its store released, its subscriptions removed.
    pub(crate) fn disable_plugin(&self, plugin: &str) {
        let found = self.inner.plugins.lock().unwrap().get(plugin).cloned();
        if let Some(found) = found.and_then(|weak| weak.upgrade()) {
            found.disable();
        }
        let mut table = self.inner.table.lock().unwrap();
        let subscribed = |entry: &Entry| entry.is_plugin_named(plugin);
        table.edit(None, subscribed, |_, entries| {
            entries.retain(|entry| !subscribed(entry))
        });
    }
}

/// The failure of `source` dispatching `event` with a payload of `bytes`,
/// more than `subscriber` takes: it is not delivered to it.
fn too_large(source: &Plugin, subscriber: &Plugin, event: &str, bytes: usize) -> PluginFailure {
    let limit = subscriber.limits().payload_bytes;
    PluginFailure {
        plugin: source.name().to_string(),
        kind: FailureKind::Error,
        export: "dispatch",
        event: Some(event.to_string()),
        cause: format!(
            "its payload of {bytes} bytes is more than plugin '{}' takes ({limit}); \
             not delivered to it",
            subscriber.name()
        ),
    }
}

/// The failure of asking for `what` outside `setup`.
fn setup_only(plugin: &Plugin, what: &'static str, name: String) -> PluginFailure {
    PluginFailure {
        plugin: plugin.name().to_string(),
        kind: FailureKind::Error,
        export: what,
        event: Some(name),
        cause: "only allowed during setup; ignored".into(),
    }
}

/// `at` in microseconds since the Unix epoch: the system clock read once,
/// at the first dispatch, and the monotonic clock since, so that a dispatch
/// reads one clock, once.
fn micros_at(at: Instant) -> u64 {
    static ANCHOR: OnceLock<(Instant, u64)> = OnceLock::new();
    let (instant, micros) = *ANCHOR.get_or_init(|| {
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH);
        (
            Instant::now(),
            since_epoch.map_or(0, |d| d.as_micros() as u64),
        )
    });
    micros + at.saturating_duration_since(instant).as_micros() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::value::{Value, payload};

    type Log = Arc<Mutex<Vec<String>>>;

    fn recorder(events: &Events, name: &str, tag: &str, log: &Log, flow: Flow) {
        let (tag, log) = (tag.to_string(), log.clone());
        events.subscribe(name, move |event: Event| {
            let entry = format!("{tag}:{}:{}", event.name, event.num);
            log.lock().unwrap().push(entry);
            async move { flow }
        });
    }

    fn taken(log: &Log) -> Vec<String> {
        std::mem::take(&mut *log.lock().unwrap())
    }

    #[tokio::test]
    async fn subscribers_run_in_order_and_count() {
        let (events, log) = (Events::new(), Log::default());
        for tag in ["a", "b", "c"] {
            recorder(&events, "go", tag, &log, Flow::Continue);
        }
        events.dispatch("go", Payload::new()).await;
        assert_eq!(taken(&log), ["a:go:0", "b:go:1", "c:go:2"]);
    }

    #[tokio::test]
    async fn immediate_handlers_are_peers_of_the_others() {
        let (events, log) = (Events::new(), Log::default());
        recorder(&events, "go", "a", &log, Flow::Continue);
        let seen = log.clone();
        events.subscribe_sync("go", move |event| {
            let entry = format!("sync:{}:{}", event.name, event.num);
            seen.lock().unwrap().push(entry);
            match event.get::<String>("stop").as_deref() {
                Some("yes") => Flow::Stop,
                _ => Flow::Continue,
            }
        });
        recorder(&events, "go", "c", &log, Flow::Continue);
        events.dispatch("go", Payload::new()).await;
        assert_eq!(taken(&log), ["a:go:0", "sync:go:1", "c:go:2"]);
        events.dispatch("go", payload([("stop", "yes")])).await;
        assert_eq!(taken(&log), ["a:go:0", "sync:go:1"]);
    }

    #[tokio::test]
    async fn timestamps_follow_the_system_clock_and_never_go_back() {
        let events = Events::new();
        let stamps: Arc<Mutex<Vec<u64>>> = Arc::default();
        let kept = stamps.clone();
        events.subscribe_sync("t", move |event| {
            kept.lock().unwrap().push(event.timestamp);
            Flow::Continue
        });
        let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        for _ in 0..3 {
            events.dispatch("t", Payload::new()).await;
            std::thread::sleep(Duration::from_millis(2));
        }
        let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let stamps = stamps.lock().unwrap().clone();
        assert!(
            stamps.windows(2).all(|w| w[1] >= w[0] + 2_000),
            "{stamps:?}"
        );
        // Within a second of the system clock (the anchor is read once).
        let (low, high) = (before.as_micros() as u64, after.as_micros() as u64);
        assert!(stamps[0] + 1_000_000 >= low && stamps[2] <= high + 1_000_000);
    }

    #[tokio::test]
    async fn stop_ends_the_loop() {
        let (events, log) = (Events::new(), Log::default());
        recorder(&events, "go", "a", &log, Flow::Continue);
        recorder(&events, "go", "b", &log, Flow::Stop);
        recorder(&events, "go", "c", &log, Flow::Continue);
        events.dispatch("go", Payload::new()).await;
        assert_eq!(taken(&log), ["a:go:0", "b:go:1"]);
    }

    #[tokio::test]
    async fn unsubscribed_names_are_a_no_op() {
        let (events, log) = (Events::new(), Log::default());
        recorder(&events, "go", "a", &log, Flow::Continue);
        events.dispatch("other", Payload::new()).await;
        assert!(taken(&log).is_empty());
    }

    #[tokio::test]
    async fn unsubscribe_removes_one_handler() {
        let (events, log) = (Events::new(), Log::default());
        recorder(&events, "go", "a", &log, Flow::Continue);
        let id = events.subscribe("go", |_| async { Flow::Continue });
        assert_eq!(events.subscriber_count("go"), 2);
        assert!(events.unsubscribe(id));
        assert!(!events.unsubscribe(id));
        events.dispatch("go", Payload::new()).await;
        assert_eq!(taken(&log), ["a:go:0"]);
    }

    #[tokio::test]
    async fn payload_and_timestamp_reach_handlers() {
        let events = Events::new();
        let seen: Arc<Mutex<Option<Event>>> = Arc::default();
        let slot = seen.clone();
        events.subscribe("send", move |event| {
            *slot.lock().unwrap() = Some(event);
            async { Flow::Continue }
        });
        events.dispatch("send", payload([("data", "bar")])).await;
        let event = seen.lock().unwrap().take().unwrap();
        assert_eq!(event.value("data"), Some(&Value::Text("bar".into())));
        assert_eq!(event.get::<String>("data").as_deref(), Some("bar"));
        assert!(event.timestamp > 1_600_000_000_000_000);
    }

    #[tokio::test]
    async fn a_native_handler_can_dispatch_and_await() {
        let (events, log) = (Events::new(), Log::default());
        let inner = events.clone();
        events.subscribe("outer", move |_| {
            let inner = inner.clone();
            async move {
                inner.dispatch("inner", Payload::new()).await;
                Flow::Continue
            }
        });
        recorder(&events, "inner", "x", &log, Flow::Continue);
        recorder(&events, "outer", "y", &log, Flow::Continue);
        events.dispatch("outer", Payload::new()).await;
        assert_eq!(taken(&log), ["x:inner:0", "y:outer:1"]);
    }
}
