//! The dispatcher with real plugins: order, stop, `num`, re-entrant
//! dispatch, failures, and payload values crossing into wasm and back.

use crate::common::{app, log, native, probe, texts};
use precept::limits::MAX_DISPATCH_DEPTH;
use precept::{FailureKind, Flow, Payload, Scalar, Value, payload};

#[tokio::test]
async fn native_and_plugin_subscribers_run_in_subscription_order() {
    let mut app = app();
    native(&app, "go", "n1", Flow::Continue);
    probe(&mut app, "a", &[("subscribe", texts(&["go"]))]).await;
    native(&app, "go", "n2", Flow::Continue);
    probe(&mut app, "b", &[("subscribe", texts(&["go"]))]).await;
    native(&app, "go", "n3", Flow::Continue);

    app.events().dispatch("go", Payload::new()).await;

    assert_eq!(
        log(&app),
        ["n1:go:0", "a:go:1", "n2:go:2", "b:go:3", "n3:go:4"]
    );
    assert!(app.events().failures().is_empty());
}

#[tokio::test]
async fn a_plugin_stops_propagation() {
    let mut app = app();
    native(&app, "go", "n1", Flow::Continue);
    probe(
        &mut app,
        "a",
        &[("subscribe", texts(&["go"])), ("stop", texts(&["go"]))],
    )
    .await;
    native(&app, "go", "n2", Flow::Continue);
    probe(&mut app, "b", &[("subscribe", texts(&["go"]))]).await;

    app.events().dispatch("go", Payload::new()).await;

    assert_eq!(log(&app), ["n1:go:0", "a:go:1"]);
}

#[tokio::test]
async fn a_native_subscriber_stops_a_plugin_from_receiving() {
    let mut app = app();
    native(&app, "go", "n1", Flow::Stop);
    probe(&mut app, "a", &[("subscribe", texts(&["go"]))]).await;

    app.events().dispatch("go", Payload::new()).await;

    assert_eq!(log(&app), ["n1:go:0"]);
}

#[tokio::test]
async fn dispatching_a_name_nobody_subscribed_to_does_nothing() {
    let mut app = app();
    probe(&mut app, "a", &[("subscribe", texts(&["go"]))]).await;

    app.events()
        .dispatch("nobody", payload([("x", 1i64)]))
        .await;

    assert!(log(&app).is_empty());
    assert!(app.events().failures().is_empty());
}

#[tokio::test]
async fn one_plugin_reaches_another() {
    let mut app = app();
    probe(
        &mut app,
        "a",
        &[("subscribe", texts(&["go"])), ("relay", texts(&["go>hop"]))],
    )
    .await;
    probe(&mut app, "b", &[("subscribe", texts(&["hop"]))]).await;

    app.events().dispatch("go", Payload::new()).await;

    assert_eq!(log(&app), ["a:go:0", "b:hop:0"]);
    assert_eq!(app.vars().get("b.hop.from"), Some(Value::Text("a".into())));
}

#[tokio::test]
async fn a_plugin_receives_its_own_dispatch_after_its_handler_returns() {
    let mut app = app();
    probe(
        &mut app,
        "a",
        &[
            ("subscribe", texts(&["go", "again"])),
            ("relay", texts(&["go>again"])),
        ],
    )
    .await;
    native(&app, "go", "n", Flow::Continue);

    app.events().dispatch("go", Payload::new()).await;

    // The dispatch made while handling `go` is delivered when the handler
    // returns, before `go` moves on to its next subscriber.
    assert_eq!(log(&app), ["a:go:0", "a:again:0", "n:go:1"]);
}

#[tokio::test]
async fn an_a_to_b_to_a_cycle_completes() {
    let mut app = app();
    probe(
        &mut app,
        "a",
        &[
            ("subscribe", texts(&["ping", "done"])),
            ("relay", texts(&["ping>pong"])),
        ],
    )
    .await;
    probe(
        &mut app,
        "b",
        &[
            ("subscribe", texts(&["pong"])),
            ("relay", texts(&["pong>done"])),
        ],
    )
    .await;

    app.events().dispatch("ping", Payload::new()).await;

    assert_eq!(log(&app), ["a:ping:0", "b:pong:0", "a:done:0"]);
    assert_eq!(app.vars().get("a.done.hops"), Some(Value::Integer(2)));
}

#[tokio::test]
async fn an_endless_cycle_is_cut_at_the_depth_bound() {
    let mut app = app();
    let a = probe(
        &mut app,
        "a",
        &[
            ("subscribe", texts(&["ping"])),
            ("relay", texts(&["ping>pong"])),
        ],
    )
    .await;
    let b = probe(
        &mut app,
        "b",
        &[
            ("subscribe", texts(&["pong"])),
            ("relay", texts(&["pong>ping"])),
        ],
    )
    .await;

    app.events().dispatch("ping", Payload::new()).await;

    assert_eq!(log(&app).len(), MAX_DISPATCH_DEPTH + 1);
    let failures = app.events().failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].kind, FailureKind::Limit);
    assert_eq!(failures[0].export, "dispatch");
    // The plugin that went too deep is disabled; the other still works.
    let (culprit, other) = if failures[0].plugin == "a" {
        (a, b)
    } else {
        (b, a)
    };
    assert!(culprit.is_disabled() && !other.is_disabled());
    let before = log(&app).len();
    app.events().dispatch("ping", Payload::new()).await;
    app.events().dispatch("pong", Payload::new()).await;
    assert_eq!(log(&app).len(), before + 1, "{:?}", log(&app));
}

#[tokio::test]
async fn a_plugin_error_is_reported_and_the_event_goes_on() {
    let mut app = app();
    probe(
        &mut app,
        "a",
        &[("subscribe", texts(&["go"])), ("fail", texts(&["go"]))],
    )
    .await;
    native(&app, "go", "n", Flow::Continue);

    app.events().dispatch("go", Payload::new()).await;
    app.events().dispatch("go", Payload::new()).await;

    assert_eq!(log(&app), ["a:go:0", "n:go:1", "a:go:0", "n:go:1"]);
    let failures = app.events().failures();
    assert_eq!(failures.len(), 2);
    assert_eq!(
        failures[0].to_string(),
        "plugin 'a' failed in on-event(go): a refuses go"
    );
}

#[tokio::test]
async fn a_plugin_unsubscribes() {
    let mut app = app();
    probe(
        &mut app,
        "a",
        &[
            ("subscribe", texts(&["go", "tick"])),
            ("unsubscribe", texts(&["go>tick"])),
        ],
    )
    .await;

    app.events().dispatch("tick", Payload::new()).await;
    app.events().dispatch("go", Payload::new()).await;
    app.events().dispatch("tick", Payload::new()).await;

    assert_eq!(log(&app), ["a:tick:0", "a:go:0"]);
}

#[tokio::test]
async fn payload_values_cross_into_the_plugin_unchanged() {
    let mut app = app();
    probe(&mut app, "a", &[("subscribe", texts(&["values"]))]).await;
    let sent = vec![
        ("absent".to_string(), Value::Absent),
        ("flag".to_string(), Value::Boolean(true)),
        ("int".to_string(), Value::Integer(i64::MIN)),
        ("float".to_string(), Value::Float(-0.125)),
        ("text".to_string(), Value::Text("naïve ☃".into())),
        (
            "list".to_string(),
            Value::List(vec![
                Scalar::Absent,
                Scalar::Boolean(false),
                Scalar::Integer(7),
                Scalar::Float(1e300),
                Scalar::Text(String::new()),
            ]),
        ),
        ("json".to_string(), Value::Json(r#"{"a":[1,2]}"#.into())),
    ];

    app.events().dispatch("values", sent.clone()).await;

    for (key, value) in sent {
        assert_eq!(
            app.vars().get(&format!("a.values.{key}")),
            Some(value),
            "{key}"
        );
    }
}

#[tokio::test]
async fn the_ping_and_pong_examples_talk() {
    let mut app = app();
    app.load_plugin(precept_tests::PING).await.unwrap();
    app.load_plugin(precept_tests::PONG).await.unwrap();

    app.events().dispatch("cli_started", Payload::new()).await;

    assert_eq!(app.vars().get("pongs"), Some(Value::Integer(1)));
}

#[tokio::test]
async fn the_guard_example_stops_secret_sends() {
    let mut app = app();
    app.load_plugin(precept_tests::GUARD).await.unwrap();
    native(&app, "send", "n", Flow::Continue);

    app.events()
        .dispatch("send", payload([("data", "secret")]))
        .await;
    app.events()
        .dispatch("send", payload([("data", "bar")]))
        .await;

    assert_eq!(log(&app), ["n:send:1"]);
}
