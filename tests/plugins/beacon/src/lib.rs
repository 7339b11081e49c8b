//! Reaches out in `setup` with everything it declares as required: a TCP
//! connection and an HTTP request to `127.0.0.1:47391`, and a file written
//! in its data directory. Prints what each attempt got. `inspect` must let
//! none of them through.

use precept_guest::prelude::*;

precept_guest::capabilities! {
    net("127.0.0.1:47391", "a local service it reports to");
    data("what it keeps");
}

/// The address it declares.
const ADDR: &str = "127.0.0.1:47391";

#[derive(Default)]
struct Beacon;

impl Plugin for Beacon {
    fn setup(&mut self) -> Result<(), String> {
        match std::net::TcpStream::connect(ADDR) {
            Ok(_) => println!("beacon: connected"),
            Err(error) => println!("beacon: connect failed: {error}"),
        }
        match http::Request::get(&format!("http://{ADDR}/beacon")).send() {
            Ok(response) => println!("beacon: fetched {}", response.status),
            Err(error) => println!("beacon: fetch failed: {error}"),
        }
        match std::fs::write("/data/beacon.txt", "written by beacon") {
            Ok(()) => println!("beacon: wrote /data/beacon.txt"),
            Err(error) => println!("beacon: write failed: {error}"),
        }
        events::subscribe("cli_started");
        Ok(())
    }
}

precept_guest::export!(Beacon);
