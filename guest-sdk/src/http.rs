//! Outgoing HTTP requests (`wasi:http`), to the hosts the plugin was
//! granted. Declare the hosts with [`capabilities!`](crate::capabilities!);
//! a request to any other host, port or scheme comes back as
//! [`Error::Denied`], never as a crash:
//!
//! ```ignore
//! precept_guest::capabilities! {
//!     net("api.example.com:443", "to fetch the lint rules");
//! }
//!
//! match precept_guest::http::get("https://api.example.com/rules") {
//!     Ok(response) if response.status == 200 => println!("{}", response.text()),
//!     Ok(response) => println!("rules not fetched: status {}", response.status),
//!     Err(error) => println!("rules not fetched: {error}"),
//! }
//! ```
//!
//! Waiting for a response counts against the call's time bound, and the body
//! is read into the plugin's own memory.

use wasip2::http::outgoing_handler;
use wasip2::http::types::{ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, Scheme};
use wasip2::io::streams::StreamError;

/// The most bytes written to a request body in one step.
const WRITE_CHUNK: usize = 4096;

/// The most bytes read from a response body in one step.
const READ_CHUNK: u64 = 64 << 10;

/// A response, read to the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code, e.g. `200`.
    pub status: u16,
    /// The headers, in the order received, names in lowercase.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first value of the header `name` (any case), as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The host was not granted to this plugin: `host:port` as asked.
    Denied(String),
    /// The URL is not `http://` or `https://` followed by a host.
    BadUrl(String),
    /// The request failed on the way: connection, timeout, protocol, or
    /// too many requests open at once.
    Failed(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Denied(host) => write!(f, "{host} was refused: it is not a granted host"),
            Error::BadUrl(url) => write!(f, "'{url}' is not an http:// or https:// URL"),
            Error::Failed(why) => write!(f, "request failed: {why}"),
        }
    }
}

impl std::error::Error for Error {}

/// A request to send: method, URL, headers and body.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Request {
    /// A `GET` of `url`.
    pub fn get(url: &str) -> Request {
        Request::new(Method::Get, url)
    }

    /// A `POST` of `body` to `url`.
    pub fn post(url: &str, body: impl Into<Vec<u8>>) -> Request {
        Request::new(Method::Post, url).body(body)
    }

    /// A request with any method, e.g. `"PUT"`.
    pub fn method(method: &str, url: &str) -> Request {
        let method = match method.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "PATCH" => Method::Patch,
            "OPTIONS" => Method::Options,
            other => Method::Other(other.to_string()),
        };
        Request::new(method, url)
    }

    fn new(method: Method, url: &str) -> Request {
        Request {
            method,
            url: url.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds the header `name: value`.
    pub fn header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Request {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Sets the body; its `content-length` is sent unless a header sets it.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    /// Sends the request and reads the whole response.
    pub fn send(self) -> Result<Response, Error> {
        let target = Target::parse(&self.url).ok_or_else(|| Error::BadUrl(self.url.clone()))?;
        let failed = |code: ErrorCode| match code {
            ErrorCode::HttpRequestDenied => Error::Denied(target.host_port()),
            other => Error::Failed(describe(&other)),
        };

        let headers = Fields::new();
        let has_length = self
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-length"));
        if !self.body.is_empty() && !has_length {
            let length = self.body.len().to_string();
            headers
                .append("content-length", length.as_bytes())
                .map_err(|e| Error::Failed(format!("header 'content-length': {e:?}")))?;
        }
        for (name, value) in &self.headers {
            headers
                .append(name, value)
                .map_err(|e| Error::Failed(format!("header '{name}': {e:?}")))?;
        }
        let request = OutgoingRequest::new(headers);
        let refused = |what: &str| Error::Failed(format!("the {what} was not accepted"));
        request
            .set_method(&self.method)
            .map_err(|()| refused("method"))?;
        request
            .set_scheme(Some(&target.scheme))
            .map_err(|()| refused("scheme"))?;
        request
            .set_authority(Some(&target.authority))
            .map_err(|()| refused("host"))?;
        request
            .set_path_with_query(Some(&target.path))
            .map_err(|()| refused("path"))?;
        let body = request.body().map_err(|()| refused("body"))?;

        let pending = outgoing_handler::handle(request, None).map_err(failed)?;
        write_body(&body, &self.body)?;
        OutgoingBody::finish(body, None).map_err(failed)?;

        pending.subscribe().block();
        let response = match pending.get() {
            Some(Ok(result)) => result.map_err(failed)?,
            _ => return Err(Error::Failed("no response".into())),
        };
        let status = response.status();
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value))
            .collect();
        let incoming = response
            .consume()
            .map_err(|()| Error::Failed("the body was already read".into()))?;
        let stream = incoming
            .stream()
            .map_err(|()| Error::Failed("the body was already read".into()))?;
        let mut body = Vec::new();
        loop {
            match stream.blocking_read(READ_CHUNK) {
                Ok(chunk) => body.extend_from_slice(&chunk),
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => {
                    return Err(Error::Failed(e.to_debug_string()));
                }
            }
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// `GET url`, read to the end.
pub fn get(url: &str) -> Result<Response, Error> {
    Request::get(url).send()
}

/// `POST body` to `url`, the response read to the end.
pub fn post(url: &str, body: impl Into<Vec<u8>>) -> Result<Response, Error> {
    Request::post(url, body).send()
}

fn write_body(body: &OutgoingBody, bytes: &[u8]) -> Result<(), Error> {
    if bytes.is_empty() {
        return Ok(());
    }
    let stream = body
        .write()
        .map_err(|()| Error::Failed("the body could not be written".into()))?;
    for chunk in bytes.chunks(WRITE_CHUNK) {
        stream
            .blocking_write_and_flush(chunk)
            .map_err(|e| Error::Failed(format!("writing the body: {e:?}")))?;
    }
    Ok(())
}

/// A URL taken apart: scheme, `host[:port]`, and path with query.
struct Target {
    scheme: Scheme,
    authority: String,
    path: String,
    default_port: u16,
}

impl Target {
    fn parse(url: &str) -> Option<Target> {
        let (scheme, rest) = url.split_once("://")?;
        let (scheme, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "http" => (Scheme::Http, 80),
            "https" => (Scheme::Https, 443),
            _ => return None,
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        let path = path.split('#').next().unwrap_or("");
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        Some(Target {
            scheme,
            authority: authority.to_string(),
            path,
            default_port,
        })
    }

    /// `host:port`, the port filled in from the scheme.
    fn host_port(&self) -> String {
        let has_port = self
            .authority
            .rsplit_once(':')
            .is_some_and(|(_, port)| !port.is_empty() && !port.contains(']'));
        if has_port {
            self.authority.clone()
        } else {
            format!("{}:{}", self.authority, self.default_port)
        }
    }
}

fn describe(code: &ErrorCode) -> String {
    match code {
        ErrorCode::ConnectionRefused => "connection refused".into(),
        ErrorCode::ConnectionTimeout => "connection timed out".into(),
        ErrorCode::ConnectionLimitReached => "too many requests open at once".into(),
        ErrorCode::DnsError(_) => "the host name was not found".into(),
        ErrorCode::HttpResponseTimeout => "no response in time".into(),
        other => format!("{other:?}"),
    }
}
