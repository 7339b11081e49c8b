//! Which plugins are called synchronously: those that import nothing that
//! can wait, loaded on a multi-threaded runtime.

use crate::common::app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_that_cannot_wait_are_called_synchronously_on_a_threaded_runtime() {
    let mut app = app();
    for (plugin, synchronous) in [
        (precept_tests::NOOP, true),
        (precept_tests::FLOOD, true),
        (precept_tests::HELLO, true),
        // The monotonic clock: it sleeps.
        (precept_tests::WAITER, false),
        // Files, sockets and `wasi:http`.
        (precept_tests::FETCHER, false),
        (precept_tests::HOSTILE, false),
    ] {
        let loaded = app.load_plugin(plugin).await.unwrap();
        assert_eq!(loaded.is_called_synchronously(), synchronous, "{plugin}");
    }
}

#[tokio::test]
async fn on_a_current_thread_runtime_every_plugin_is_called_asynchronously() {
    let mut app = app();
    let loaded = app.load_plugin(precept_tests::NOOP).await.unwrap();
    assert!(!loaded.is_called_synchronously());
}
