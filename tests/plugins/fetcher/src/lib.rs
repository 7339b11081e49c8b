//! On `fetch` (payload `url`, optional `method` and `body`) prints
//! `fetched STATUS BODY` or `fetch failed: ERROR`; on `connect` (payload
//! `addr`, `ip:port`) opens a TCP connection with the standard library and
//! prints `connected ADDR` or `connect failed: ERROR`. Declares any host the
//! user grants.

use precept_guest::prelude::*;

precept_guest::capabilities! {
    net("*", "the hosts the user points it at", optional);
}

#[derive(Default)]
struct Fetcher;

impl Plugin for Fetcher {
    fn setup(&mut self) -> Result<(), String> {
        events::subscribe("fetch");
        events::subscribe("connect");
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        match event.name.as_str() {
            "fetch" => {
                let url: String = event.get("url").unwrap_or_default();
                let method: String = event.get("method").unwrap_or_else(|| "GET".into());
                let body: String = event.get("body").unwrap_or_default();
                match http::Request::method(&method, &url).body(body).send() {
                    Ok(response) => println!("fetched {} {}", response.status, response.text()),
                    Err(error) => println!("fetch failed: {error}"),
                }
            }
            "connect" => {
                let addr: String = event.get("addr").unwrap_or_default();
                match std::net::TcpStream::connect(&addr) {
                    Ok(_) => println!("connected {addr}"),
                    Err(error) => println!("connect failed: {error}"),
                }
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }
}

precept_guest::export!(Fetcher);
