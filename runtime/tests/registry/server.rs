//! A real OCI registry for the tests: the CNCF distribution registry
//! (Debian's `docker-registry`) on a free loopback port, its storage in a
//! scratch directory; raw pushes of blobs and manifests for the layouts no
//! honest client writes; and a proxy that cuts a download half-way.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The registry's command.
pub const REGISTRY: &str = "docker-registry";

/// What to install when the registry is missing.
pub const INSTALL: &str = "apt-get install docker-registry (or run .ci/toolchains)";

/// Whether `docker-registry` can be run here.
pub fn available() -> bool {
    Command::new(REGISTRY)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A running registry, stopped when dropped.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// Its storage.
    pub root: PathBuf,
}

impl Registry {
    /// Starts a registry with its storage in `dir`.
    pub fn start(dir: &Path) -> Registry {
        Registry::start_with(dir, None)
    }

    /// Starts a registry with its storage in `dir` (another's before it
    /// included), asking for the user and bcrypt hash `htpasswd` gives
    /// when there is one.
    pub fn start_with(dir: &Path, htpasswd: Option<&str>) -> Registry {
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let addr = format!("127.0.0.1:{port}");
            let root = dir.join("registry");
            std::fs::create_dir_all(&root).unwrap();
            let config = dir.join("registry.yml");
            let mut text = format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n",
                root.display()
            );
            if let Some(line) = htpasswd {
                let file = dir.join("htpasswd");
                std::fs::write(&file, format!("{line}\n")).unwrap();
                text.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: precept-test\n    path: {}\n",
                    file.display()
                ));
            }
            std::fs::write(&config, text).unwrap();
            let mut child = Command::new(REGISTRY)
                .arg("serve")
                .arg(&config)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("run docker-registry");
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(20) {
                if child.try_wait().unwrap().is_some() {
                    break; // The port was taken meanwhile: another one.
                }
                // Up: it answers, asking for credentials or not.
                let up = request(&addr, "GET", "/v2/", "", &[]);
                if up.is_ok_and(|r| r.status == 200 || r.status == 401) {
                    return Registry { child, addr, root };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("docker-registry did not start");
    }

    /// Pushes `bytes` as a blob of `repo`; its digest.
    pub fn push_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = precept_registry::sha256_digest(bytes);
        let started = request(
            &self.addr,
            "POST",
            &format!("/v2/{repo}/blobs/uploads/"),
            "",
            &[],
        )
        .unwrap();
        assert_eq!(started.status, 202, "start an upload");
        let location = started.header("location").expect("a location");
        let path = location
            .strip_prefix(&format!("http://{}", self.addr))
            .unwrap_or(&location)
            .to_string();
        let sep = if path.contains('?') { '&' } else { '?' };
        let done = request(
            &self.addr,
            "PUT",
            &format!("{path}{sep}digest={digest}"),
            "application/octet-stream",
            bytes,
        )
        .unwrap();
        assert_eq!(done.status, 201, "finish the upload");
        digest
    }

    /// Pushes a manifest of `repo` under `tag`, with a config of
    /// `config_type` and the `layers` (media type, bytes, size claimed).
    pub fn push_manifest(
        &self,
        repo: &str,
        tag: &str,
        config_type: &str,
        layers: &[(&str, &[u8], usize)],
        annotations: serde_json::Value,
    ) -> String {
        let config = br#"{"architecture":"wasm","os":"wasip2"}"#;
        let config_digest = self.push_blob(repo, config);
        let layers: Vec<_> = layers
            .iter()
            .map(|(media_type, bytes, size)| {
                serde_json::json!({
                    "mediaType": media_type,
                    "digest": self.push_blob(repo, bytes),
                    "size": size,
                })
            })
            .collect();
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": { "mediaType": config_type, "digest": config_digest, "size": config.len() },
            "layers": layers,
            "annotations": annotations,
        });
        let body = serde_json::to_vec(&manifest).unwrap();
        let put = request(
            &self.addr,
            "PUT",
            &format!("/v2/{repo}/manifests/{tag}"),
            "application/vnd.oci.image.manifest.v1+json",
            &body,
        )
        .unwrap();
        assert_eq!(
            put.status,
            201,
            "push the manifest: {}",
            String::from_utf8_lossy(&put.body)
        );
        format!("{}/{repo}:{tag}", self.addr)
    }

    /// The file the registry keeps the blob `digest` in.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.root
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
pub struct Response {
    pub status: u16,
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
}

/// One HTTP/1.1 request to the loopback server `addr`, its connection
/// closed after the answer.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !content_type.is_empty() {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP head"))?;
    let head = String::from_utf8_lossy(&answer[..end]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(Response {
        status,
        headers,
        body: answer[end + 4..].to_vec(),
    })
}

/// A proxy in front of `upstream` that closes each connection once it has
/// passed `cut` bytes of answers on it: a download interrupted half-way.
/// Its address.
pub fn cutting_proxy(upstream: &str, cut: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let upstream = upstream.to_string();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let Ok(mut server) = TcpStream::connect(&upstream) else {
                return;
            };
            let (mut client_in, mut server_out) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut client_in, &mut server_out);
            });
            std::thread::spawn(move || {
                let mut passed = 0;
                let mut buffer = [0u8; 16 << 10];
                while let Ok(n) = server.read(&mut buffer) {
                    if n == 0 {
                        break;
                    }
                    let n = n.min(cut.saturating_sub(passed));
                    if n == 0 || client.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                    passed += n;
                }
                let _ = client.shutdown(std::net::Shutdown::Both);
                let _ = server.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    addr
}
