//! Properties over many generated inputs: payload values cross into a
//! plugin and back unchanged, no bytes make the loader panic, a long run of
//! events keeps memory flat, and any script of host calls a plugin makes is
//! either accepted or refused exactly as its budget says — with no host
//! panic and every failure on one line.
//!
//! `PRECEPT_CASES` sets how many cases each property runs (`just fuzz`
//! runs many more than CI). Each case is hermetic: it reads back only what
//! it sent, and starts from nothing the cases before it left.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, Once};
use std::time::Duration;

use common::{app, probe, texts};
use precept::limits::HostBudget;
use precept::{FailureKind, Limits, Payload, Sandbox, Scalar, Value};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

fn cases(default: u32) -> u32 {
    std::env::var("PRECEPT_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// A runner for `cases` cases (or `PRECEPT_CASES`); failures are reported,
/// not kept in files.
fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases: self::cases(cases),
        failure_persistence: None,
        ..Config::default()
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The properties run one at a time: one of them measures the resident
/// memory of the whole process, and all of them count host panics.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Prints how long the property `name` took when it ends (shown with
/// `--nocapture`, which `just fuzz` passes).
struct Timed(&'static str, std::time::Instant);

impl Timed {
    fn start(name: &'static str) -> Timed {
        Timed(name, std::time::Instant::now())
    }
}

impl Drop for Timed {
    fn drop(&mut self) {
        eprintln!("property '{}' took {:.1?}", self.0, self.1.elapsed());
    }
}

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// Counts every panic in the process, including those of host tasks whose
/// panic nobody would otherwise see.
fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            default(info);
        }));
    });
}

fn float() -> impl Strategy<Value = f64> {
    // NaN is not equal to itself; every other float must survive exactly.
    any::<f64>().prop_filter("not NaN", |f| !f.is_nan())
}

fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        Just(Scalar::Absent),
        any::<bool>().prop_map(Scalar::Boolean),
        any::<i64>().prop_map(Scalar::Integer),
        float().prop_map(Scalar::Float),
        any::<String>().prop_map(Scalar::Text),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Absent),
        any::<bool>().prop_map(Value::Boolean),
        any::<i64>().prop_map(Value::Integer),
        float().prop_map(Value::Float),
        any::<String>().prop_map(Value::Text),
        prop::collection::vec(scalar(), 0..6).prop_map(Value::List),
        any::<String>().prop_map(Value::Json),
    ]
}

fn payloads() -> impl Strategy<Value = BTreeMap<String, Value>> {
    prop::collection::btree_map("[a-z]{1,8}", value(), 0..8)
}

#[test]
fn payload_values_round_trip_through_a_plugin() {
    let _serial = serial();
    let _timed = Timed::start("payload_values_round_trip_through_a_plugin");
    count_panics();
    let rt = runtime();
    let (app, probe) = rt.block_on(async {
        let mut app = app();
        let config = [
            ("subscribe", texts(&["values"])),
            ("quiet", Value::Boolean(true)),
        ];
        let probe = probe(&mut app, "rt", &config).await;
        (app, probe)
    });
    let mut runner = runner(300);
    runner
        .run(&payloads(), |entries: BTreeMap<String, Value>| {
            let var = |key: &str| format!("rt.values.{key}");
            for key in entries.keys() {
                prop_assert_eq!(app.vars().get(&var(key)), None, "left by another case");
            }
            let payload: Payload = entries.clone().into_iter().collect();
            rt.block_on(app.events().dispatch("values", payload));
            // Read back, and clear, every value this case sent before
            // judging any: the next case starts from nothing.
            let back: BTreeMap<String, Option<Value>> = entries
                .keys()
                .map(|key| (key.clone(), app.vars().remove(&var(key))))
                .collect();
            prop_assert!(
                !probe.is_disabled(),
                "the probe was disabled: {:?}",
                app.events().failures()
            );
            prop_assert!(app.events().failures().is_empty());
            for (key, sent) in entries {
                prop_assert_eq!(&back[&key], &Some(sent), "{}", key);
            }
            prop_assert_eq!(PANICS.load(Ordering::SeqCst), 0);
            Ok(())
        })
        .unwrap();
}

/// Bytes to try loading: noise, noise behind a component header, and a
/// real component cut short or with a few bytes changed.
fn plugin_bytes() -> impl Strategy<Value = Vec<u8>> {
    let component = std::fs::read(precept_tests::HELLO).unwrap();
    let len = component.len();
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        prop::collection::vec(any::<u8>(), 0..256).prop_map(|tail| {
            let mut bytes = b"\0asm\x0d\0\x01\0".to_vec();
            bytes.extend(tail);
            bytes
        }),
        (0..len).prop_map({
            let component = component.clone();
            move |cut| component[..cut].to_vec()
        }),
        prop::collection::vec((8..len, any::<u8>()), 1..6).prop_map(move |edits| {
            let mut bytes = component.clone();
            for (at, byte) in edits {
                bytes[at] = byte;
            }
            bytes
        }),
    ]
}

#[test]
fn loading_arbitrary_bytes_never_panics() {
    let _serial = serial();
    let _timed = Timed::start("loading_arbitrary_bytes_never_panics");
    count_panics();
    let rt = runtime();
    let dir = scratch("fuzz");
    let path = dir.join("fuzzed.wasm");
    let mut runner = runner(2000);
    runner
        .run(&plugin_bytes(), |bytes| {
            std::fs::write(&path, &bytes).unwrap();
            let mut app = app();
            // Loading may fail or succeed; it must not panic, and a failure
            // is one line.
            if let Err(error) = rt.block_on(app.load_plugin(&path)) {
                prop_assert!(!error.to_string().contains('\n'), "{}", error);
            }
            prop_assert_eq!(PANICS.load(Ordering::SeqCst), 0);
            Ok(())
        })
        .unwrap();
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("precept-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The resident memory of this process, in bytes.
fn resident_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// How much memory may grow after the warm-up of a long run: a leak of 40
/// bytes per event shows at 100,000 events.
const FLAT: usize = 4 << 20;

#[test]
fn a_long_run_of_events_keeps_memory_flat() {
    let _serial = serial();
    let _timed = Timed::start("a_long_run_of_events_keeps_memory_flat");
    count_panics();
    let rt = runtime();
    let events = cases(20_000).max(1000) as usize;
    let (app, probe) = rt.block_on(async {
        let mut app = app();
        let config = [
            ("subscribe", texts(&["tick"])),
            ("quiet", Value::Boolean(true)),
            ("relay", texts(&["tick>echo"])),
        ];
        let probe = probe(&mut app, "long", &config).await;
        app.load_plugin(precept_tests::NOOP).await.unwrap();
        (app, probe)
    });
    // Few keys, so the probe's copies overwrite each other.
    let payloads = prop::collection::btree_map("[a-c]", value(), 0..4);
    let mut runner = TestRunner::default();
    let mut measured = None;
    for i in 0..events {
        let payload: Payload = payloads
            .new_tree(&mut runner)
            .unwrap()
            .current()
            .into_iter()
            .collect();
        rt.block_on(app.events().dispatch("tick", payload));
        if i == events / 10 {
            measured = Some((resident_bytes(), probe.memory_bytes().unwrap()));
        }
    }
    let (host_before, plugin_before) = measured.unwrap();
    let (host_after, plugin_after) = (resident_bytes(), probe.memory_bytes().unwrap());
    assert!(!probe.is_disabled(), "{:?}", app.events().failures());
    assert!(app.events().failures().is_empty());
    assert!(
        plugin_after <= plugin_before + FLAT,
        "the plugin's memory grew from {plugin_before} to {plugin_after} bytes over {events} events"
    );
    assert!(
        host_after <= host_before + FLAT,
        "the host's memory grew from {host_before} to {host_after} bytes over {events} events"
    );
    assert_eq!(PANICS.load(Ordering::SeqCst), 0);
}

/// One host call, or a loop of them, in the `script` plugin's language.
#[derive(Debug, Clone)]
enum Op {
    Subscribe(String),
    Unsubscribe(String),
    SubscribeMany(String, usize),
    Dispatch(String, usize),
    DispatchMany(String, usize),
    Set(String, Scalar),
    Fill(String, usize, usize),
    Get(String),
    Log(i64, String),
    Config(String),
    Append(String, String),
    Timer(String, usize),
    Declare(String, usize),
    Fail(String),
    Trap,
}

impl Op {
    /// The op as the plugin reads it: its name, then its arguments.
    fn encode(&self, into: &mut Vec<Scalar>) {
        let text = |s: &str| Scalar::Text(s.to_string());
        let int = |n: usize| Scalar::Integer(n as i64);
        let items = match self {
            Op::Subscribe(name) => vec![text("subscribe"), text(name)],
            Op::Unsubscribe(name) => vec![text("unsubscribe"), text(name)],
            Op::SubscribeMany(prefix, n) => vec![text("subscribe-many"), text(prefix), int(*n)],
            Op::Dispatch(name, bytes) => vec![text("dispatch"), text(name), int(*bytes)],
            Op::DispatchMany(name, n) => vec![text("dispatch-many"), text(name), int(*n)],
            Op::Set(name, value) => vec![text("set"), text(name), value.clone()],
            Op::Fill(prefix, n, bytes) => vec![text("fill"), text(prefix), int(*n), int(*bytes)],
            Op::Get(name) => vec![text("get"), text(name)],
            Op::Log(level, message) => vec![text("log"), Scalar::Integer(*level), text(message)],
            Op::Config(key) => vec![text("config"), text(key)],
            Op::Append(name, item) => vec![text("append"), text(name), text(item)],
            Op::Timer(event, bytes) => vec![text("timer"), text(event), int(*bytes)],
            Op::Declare(key, bytes) => vec![text("declare"), text(key), int(*bytes)],
            Op::Fail(message) => vec![text("fail"), text(message)],
            Op::Trap => vec![text("trap")],
        };
        into.extend(items);
    }
}

/// The budget the script plugin runs with: small, so that scripts reach it.
fn script_limits() -> Limits {
    Limits {
        payload_bytes: 4 << 10,
        host: HostBudget {
            var_bytes: 16 << 10,
            vars: 32,
            subscriptions: 16,
            name_bytes: 32,
            pending_bytes: 16 << 10,
            ..HostBudget::default()
        },
        ..Limits::default()
    }
}

/// Names: a few short ones (so they collide), any characters, and some
/// around the name limit.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![4 => "[a-e]{1,2}", 2 => ".{0,8}", 1 => "[a-z]{28,36}"]
}

/// Text a plugin may send to be shown: control characters, bidi
/// overrides, and long lines included.
fn shown_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => ".{0,60}",
        2 => "[\\x00-\\x1f\\x7fa-z\\u{202e}\\u{2066}: ]{0,40}",
        1 => "x{4000,5000}",
    ]
}

fn count() -> impl Strategy<Value = usize> {
    prop_oneof![6 => 0..8usize, 2 => 8..40usize, 1 => 1000..1100usize]
}

fn bytes() -> impl Strategy<Value = usize> {
    prop_oneof![6 => 0..200usize, 1 => 200..6000usize]
}

fn op() -> impl Strategy<Value = Op> {
    let scalar = prop_oneof![
        Just(Scalar::Absent),
        any::<bool>().prop_map(Scalar::Boolean),
        any::<i64>().prop_map(Scalar::Integer),
        float().prop_map(Scalar::Float),
        ".{0,40}".prop_map(Scalar::Text),
    ];
    prop_oneof![
        4 => name().prop_map(Op::Subscribe),
        2 => name().prop_map(Op::Unsubscribe),
        2 => (name(), count()).prop_map(|(p, n)| Op::SubscribeMany(p, n)),
        3 => (name(), bytes()).prop_map(|(n, b)| Op::Dispatch(n, b)),
        2 => (name(), count()).prop_map(|(n, c)| Op::DispatchMany(n, c)),
        4 => (name(), scalar).prop_map(|(n, v)| Op::Set(n, v)),
        2 => (name(), count(), bytes()).prop_map(|(p, n, b)| Op::Fill(p, n, b)),
        1 => name().prop_map(Op::Get),
        3 => (0..5i64, shown_text()).prop_map(|(l, m)| Op::Log(l, m)),
        1 => name().prop_map(Op::Config),
        3 => (name(), ".{0,40}").prop_map(|(n, i)| Op::Append(n, i)),
        2 => (name(), bytes()).prop_map(|(e, b)| Op::Timer(e, b)),
        1 => (name(), bytes()).prop_map(|(k, b)| Op::Declare(k, b)),
        1 => shown_text().prop_map(Op::Fail),
        1 => Just(Op::Trap),
    ]
}

/// How a script's call ends.
#[derive(Debug, Clone, PartialEq)]
enum Ending {
    /// Every host call was accepted.
    Done,
    /// The script returned this error.
    Failed(String),
    /// The script panicked.
    Trapped,
    /// A host call went past the plugin's budget.
    OverBudget,
}

impl Ending {
    fn label(&self) -> &'static str {
        match self {
            Ending::Done => "done",
            Ending::Failed(_) => "failed",
            Ending::Trapped => "trapped",
            Ending::OverBudget => "over budget",
        }
    }
}

/// What the host must have done with a script, worked out from the
/// documented budget alone.
struct Model {
    limits: Limits,
    subscribed: BTreeSet<String>,
    /// Variables the plugin set, with their values.
    vars: BTreeMap<String, Value>,
    requests: usize,
    dispatches: usize,
    pending: usize,
    /// Timers set, and the bytes of their events and payloads.
    timers: (usize, usize),
    /// Requests made outside `setup` that only `setup` may make: each is
    /// reported as an error once the call returns.
    setup_only: usize,
}

/// What the host keeps for a value, as the budget counts it
/// (docs/SECURITY.md): the value, its list items, and the bytes of its
/// text.
fn size_of(value: &Value) -> usize {
    let item = |item: &Scalar| match item {
        Scalar::Text(text) => precept::limits::ITEM_BYTES + text.len(),
        _ => precept::limits::ITEM_BYTES,
    };
    precept::limits::VALUE_BYTES
        + match value {
            Value::Text(text) | Value::Json(text) => text.len(),
            Value::List(items) => items.iter().map(item).sum(),
            _ => 0,
        }
}

/// What the host keeps for a payload of one entry named `name` holding
/// `text` bytes: the entry, and the bytes of both.
fn entry_size(name: &str, text: usize) -> usize {
    precept::limits::ENTRY_BYTES + name.len() + text
}

impl Model {
    fn new(limits: Limits) -> Model {
        Model {
            limits,
            subscribed: BTreeSet::from(["script:run".to_string()]),
            vars: BTreeMap::new(),
            requests: 0,
            dispatches: 0,
            pending: 0,
            timers: (0, 0),
            setup_only: 0,
        }
    }

    /// Whether `name` is within the name budget.
    fn name_ok(&self, name: &str) -> bool {
        name.len() <= self.limits.host.name_bytes
    }

    /// Counts one request of `bytes` (what it carries) waiting for the
    /// dispatcher; `false` past the most one call may leave, in requests
    /// or in bytes. Each host call below returns `false` when the budget
    /// refuses it.
    fn request(&mut self, bytes: usize) -> bool {
        self.requests += 1;
        self.pending += precept::limits::REQUEST_BYTES + bytes;
        self.requests <= precept::limits::MAX_REQUESTS_PER_CALL
            && self.pending <= self.limits.host.pending_bytes
    }

    /// A subscription that changes nothing is no request.
    fn subscribe(&mut self, name: &str) -> bool {
        if !self.name_ok(name) {
            return false;
        }
        if self.subscribed.contains(name) {
            return true;
        }
        if self.subscribed.len() + 1 > self.limits.host.subscriptions {
            return false;
        }
        self.subscribed.insert(name.to_string());
        self.request(name.len())
    }

    fn unsubscribe(&mut self, name: &str) -> bool {
        if !self.name_ok(name) {
            return false;
        }
        if !self.subscribed.remove(name) {
            return true;
        }
        self.request(name.len())
    }

    fn dispatch(&mut self, name: &str, payload_bytes: usize) -> bool {
        if !self.name_ok(name) || payload_bytes > self.limits.payload_bytes {
            return false;
        }
        if self.requests + 1 > precept::limits::MAX_REQUESTS_PER_CALL {
            return false;
        }
        self.dispatches += 1;
        self.dispatches <= precept::limits::MAX_DISPATCHES_PER_CALL
            && self.request(name.len() + payload_bytes)
    }

    fn set(&mut self, name: &str, value: Value) -> bool {
        let size = name.len() + size_of(&value);
        if !self.name_ok(name) || size > self.limits.payload_bytes {
            return false;
        }
        self.keep(name, value)
    }

    /// Keeps `value` as `name` if the variable budget allows it.
    fn keep(&mut self, name: &str, value: Value) -> bool {
        let mut after = self.vars.clone();
        after.insert(name.to_string(), value);
        let count = after.len();
        let bytes: usize = after.iter().map(|(n, v)| n.len() + size_of(v)).sum();
        if count > self.limits.host.vars || bytes > self.limits.host.var_bytes {
            return false;
        }
        self.vars = after;
        true
    }

    /// `append-var`: a list past the payload bound, or a variable that is
    /// not a list, is an error the plugin receives (the script goes on).
    fn append(&mut self, name: &str, item: &str) -> bool {
        if !self.name_ok(name) {
            return false;
        }
        let mut items = match self.vars.get(name) {
            None | Some(Value::Absent) => Vec::new(),
            Some(Value::List(items)) => items.clone(),
            Some(_) => return true,
        };
        items.push(Scalar::Text(item.to_string()));
        let value = Value::List(items);
        if name.len() + size_of(&value) > self.limits.payload_bytes {
            return true;
        }
        self.keep(name, value)
    }

    /// `set-timeout`: past the number of timers or their bytes, an error
    /// the plugin receives; the timer is a request like any other.
    fn timer(&mut self, event: &str, bytes: usize) -> bool {
        let size = entry_size("data", bytes);
        if !self.name_ok(event) || size > self.limits.payload_bytes {
            return false;
        }
        let (count, held) = self.timers;
        let held = held + event.len() + size;
        if count >= precept::limits::MAX_TIMERS || held > self.limits.host.pending_bytes {
            return true;
        }
        self.timers = (count + 1, held);
        self.request(event.len() + size)
    }

    /// `declare` outside `setup`: a request that keeps only the key, and
    /// is reported when the call returns.
    fn declare(&mut self, key: &str) -> bool {
        if !self.name_ok(key) {
            return false;
        }
        self.setup_only += 1;
        self.request(key.len())
    }

    /// Runs `ops` as the plugin does, and says how the call ends.
    fn run(&mut self, ops: &[Op]) -> Ending {
        let over = Ending::OverBudget;
        for op in ops {
            let accepted = match op {
                Op::Subscribe(name) => self.subscribe(name),
                Op::Unsubscribe(name) => self.unsubscribe(name),
                Op::SubscribeMany(prefix, n) => {
                    (0..*n).all(|i| self.subscribe(&format!("{prefix}{i}")))
                }
                Op::Dispatch(name, bytes) => self.dispatch(name, entry_size("data", *bytes)),
                Op::DispatchMany(name, n) => (0..*n).all(|_| self.dispatch(name, 0)),
                Op::Set(name, value) => self.set(name, Value::from(value.clone())),
                Op::Fill(prefix, n, bytes) => (0..*n)
                    .all(|i| self.set(&format!("{prefix}{i}"), Value::Text("x".repeat(*bytes)))),
                Op::Get(_) | Op::Log(..) | Op::Config(_) => true,
                Op::Append(name, item) => self.append(name, item),
                Op::Timer(event, bytes) => self.timer(event, *bytes),
                Op::Declare(key, _) => self.declare(key),
                Op::Fail(message) => return Ending::Failed(message.clone()),
                Op::Trap => return Ending::Trapped,
            };
            if !accepted {
                return over;
            }
        }
        Ending::Done
    }
}

/// Whether `text` is one line a terminal shows as it is: no control
/// characters, no bidi overrides.
fn is_one_clean_line(text: &str) -> bool {
    !text.chars().any(|c| {
        c.is_control()
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    })
}

#[test]
fn any_script_of_host_calls_is_accepted_or_refused_as_its_budget_says() {
    let _serial = serial();
    let _timed = Timed::start("any_script_of_host_calls_is_accepted_or_refused_as_its_budget_says");
    count_panics();
    let rt = runtime();
    let dir = scratch("scripts");
    let log_file = dir.join("plugins.log");
    precept::logging::install();
    precept::logging::configure(&precept::logging::LogSettings {
        file: Some(log_file.clone()),
        ..Default::default()
    })
    .unwrap();
    let sandbox = Sandbox {
        limits: script_limits(),
        ..Sandbox::default()
    };
    let scripts = prop::collection::vec(op(), 0..24);
    let mut runner = runner(300);
    let seen = Mutex::new(BTreeMap::<&str, usize>::new());
    runner
        .run(&scripts, |ops: Vec<Op>| {
            // A new application and plugin for every case.
            let mut app = app();
            let mut script = Vec::new();
            for op in &ops {
                op.encode(&mut script);
            }
            app.vars().set("script", Value::List(script));
            let plugin = rt
                .block_on(app.load_plugin_with(precept_tests::SCRIPT, &sandbox.clone().into()))
                .unwrap();
            rt.block_on(app.events().dispatch("script:run", Payload::new()));

            let mut model = Model::new(script_limits());
            let ending = model.run(&ops);
            let failures = app.events().failures();
            for failure in &failures {
                prop_assert!(is_one_clean_line(&failure.to_string()), "{}", failure);
            }
            let kinds: Vec<FailureKind> = failures.iter().map(|f| f.kind).collect();
            *seen.lock().unwrap().entry(ending.label()).or_default() += 1;
            // What only `setup` may ask is reported once the call
            // returns, before the call's own failure.
            let reported = vec![FailureKind::Error; model.setup_only];
            match &ending {
                Ending::Done => prop_assert_eq!(kinds, reported, "{:?}", failures),
                Ending::Failed(_) => {
                    let failed = [reported, vec![FailureKind::Error]].concat();
                    prop_assert_eq!(kinds, failed, "{:?}", failures)
                }
                Ending::Trapped => prop_assert_eq!(kinds, vec![FailureKind::Trap]),
                Ending::OverBudget => {
                    prop_assert_eq!(kinds, vec![FailureKind::Limit], "{:?}", failures)
                }
            }
            let disabled = matches!(ending, Ending::Trapped | Ending::OverBudget);
            prop_assert_eq!(plugin.is_disabled(), disabled);
            let subscribed: BTreeSet<String> = app
                .events()
                .subscriptions_of("script")
                .into_iter()
                .collect();
            match ending {
                Ending::Done => prop_assert_eq!(&subscribed, &model.subscribed),
                // A disabled plugin keeps no subscription.
                Ending::Trapped | Ending::OverBudget => prop_assert!(subscribed.is_empty()),
                Ending::Failed(_) => {}
            }
            // What the plugin set before the call ended stays; nothing else.
            for (name, value) in &model.vars {
                prop_assert_eq!(app.vars().get(name), Some(value.clone()), "{}", name);
            }
            if let Some(bytes) = plugin.memory_bytes() {
                prop_assert!(bytes <= plugin.limits().memory_bytes);
            }

            precept::logging::flush(Duration::from_secs(5));
            let logged = std::fs::read(&log_file).unwrap();
            std::fs::File::create(&log_file).unwrap();
            for line in String::from_utf8_lossy(&logged).lines() {
                prop_assert!(is_one_clean_line(line), "{:?}", line);
                prop_assert!(
                    line.len() <= 2 * precept::limits::MAX_SHOWN_CHARS * 4,
                    "{}",
                    line.len()
                );
            }
            prop_assert_eq!(PANICS.load(Ordering::SeqCst), 0);
            Ok(())
        })
        .unwrap();
    // The generated scripts reach every ending, or the property proves less
    // than it says.
    let seen = seen.into_inner().unwrap();
    eprintln!("script endings: {seen:?}");
    assert_eq!(seen.len(), 4, "{seen:?}");
}
