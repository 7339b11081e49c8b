//! Network grants: a plugin reaches by HTTP (and by TCP, for hosts given as
//! IP addresses) exactly the `host:port`s it was granted; anything else is
//! refused with an error the plugin receives and can print. Each test runs
//! its own HTTP servers on free ports of 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const FETCHER: &str = precept_tests::FETCHER;

/// A server that answers every request with `METHOD PATH BODY`, on a free
/// port of `ip`; runs until the test process ends.
fn echo_server(ip: &str) -> u16 {
    let listener = TcpListener::bind((ip, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer(stream));
        }
    });
    port
}

fn answer(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let mut words = request_line.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let reply = format!("{method} {path} {}", String::from_utf8_lossy(&body));
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    );
    let _ = (&stream).write_all(response.as_bytes());
}

/// A server that accepts connections and never answers.
fn silent_server() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

fn precept_run(args: &[&str]) -> Output {
    let dir = std::env::temp_dir();
    Command::new(env!("CARGO_BIN_EXE_precept-run"))
        .args(args)
        .current_dir(&dir)
        .env("HOME", &dir)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("PRECEPT_CACHE_DIR")
        .output()
        .expect("run precept-run")
}

/// Runs `event key=value` on the fetcher with the given grants; its
/// standard output.
fn fetch(grants: &[String], event: &[&str]) -> String {
    let mut args = vec!["--plugin", FETCHER];
    for grant in grants {
        args.extend(["--net", grant.as_str()]);
    }
    args.push("dispatch");
    args.extend(event);
    let output = precept_run(&args);
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_granted_host_answers_and_every_other_host_port_or_scheme_is_refused() {
    let port = echo_server("127.0.0.1");
    let other_port = echo_server("127.0.0.1");
    let other_ip = echo_server("127.0.0.2");
    let grant = vec![format!("fetcher=127.0.0.1:{port}")];

    let url = format!("url=http://127.0.0.1:{port}/rules?v=1");
    assert_eq!(
        fetch(&grant, &["fetch", &url]),
        "fetched 200 GET /rules?v=1 \n"
    );
    let post = fetch(&grant, &["fetch", &url, "method=POST", "body=note"]);
    assert_eq!(post, "fetched 200 POST /rules?v=1 note\n");

    // Each of these servers is up and would answer: the refusal is the
    // grant's, not the network's.
    let refused = [
        format!("http://127.0.0.1:{other_port}/"),
        format!("http://127.0.0.2:{other_ip}/"),
        format!("http://localhost:{port}/"),
    ];
    for url in refused {
        let shown = fetch(&grant, &["fetch", &format!("url={url}")]);
        assert!(
            shown.starts_with("fetch failed: ") && shown.contains("was refused"),
            "{url}: {shown}"
        );
    }
    let not_http = fetch(&grant, &["fetch", &format!("url=ftp://127.0.0.1:{port}/")]);
    assert!(not_http.starts_with("fetch failed: "), "{not_http}");
    // HTTPS to the granted host and port goes out (and fails there: the
    // server speaks plain HTTP).
    let tls = fetch(
        &grant,
        &["fetch", &format!("url=https://127.0.0.1:{port}/")],
    );
    assert!(
        tls.starts_with("fetch failed: ") && !tls.contains("refused"),
        "{tls}"
    );
}

#[test]
fn a_plugin_without_a_network_grant_is_refused() {
    let port = echo_server("127.0.0.1");
    let url = format!("url=http://127.0.0.1:{port}/");
    let shown = fetch(&[], &["fetch", &url]);
    assert_eq!(
        shown,
        format!("fetch failed: 127.0.0.1:{port} was refused: it is not a granted host\n")
    );
    let connect = fetch(&[], &["connect", &format!("addr=127.0.0.1:{port}")]);
    assert!(connect.starts_with("connect failed: "), "{connect}");
}

#[test]
fn tcp_connects_only_to_a_granted_address() {
    let port = echo_server("127.0.0.1");
    let other = echo_server("127.0.0.1");
    let grant = vec![format!("fetcher=127.0.0.1:{port}")];
    let granted = format!("addr=127.0.0.1:{port}");
    assert_eq!(
        fetch(&grant, &["connect", &granted]),
        format!("connected 127.0.0.1:{port}\n")
    );
    let elsewhere = fetch(&grant, &["connect", &format!("addr=127.0.0.1:{other}")]);
    assert!(elsewhere.starts_with("connect failed: "), "{elsewhere}");
    // Names are not looked up for a plugin: only addresses connect.
    let by_name = fetch(&grant, &["connect", &format!("addr=localhost:{port}")]);
    assert!(by_name.starts_with("connect failed: "), "{by_name}");
}

#[test]
fn a_request_that_gets_no_answer_ends_within_the_plugins_clock_bound() {
    let port = silent_server();
    let grant = format!("fetcher=127.0.0.1:{port}");
    let started = Instant::now();
    let output = precept_run(&[
        "--plugin",
        FETCHER,
        "--net",
        &grant,
        "dispatch",
        "fetch",
        &format!("url=http://127.0.0.1:{port}/"),
    ]);
    let took = started.elapsed();
    // The default clock bound of a call is 5 s.
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        shown.contains("fetch failed: ") || shown.contains("by the clock"),
        "{shown}"
    );
}
