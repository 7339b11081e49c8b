//! Installing a plugin into the plugin home: the bytes fetched from a
//! file, a pinned URL or an OCI registry into a private temporary file
//! under a size cap and checked against their digests; the component
//! checked as `inspect` checks it; its grants taken from flags or asked
//! for on a terminal; then moved into place and recorded. Nothing is kept
//! before every check has passed.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use super::options::parse_grant;
use crate::app::App;
use crate::io::text::clean;
use crate::model::config::PluginOptions;
use crate::plugin::usable_name;
use crate::trust::capabilities::{Access, Capabilities, CapabilityError};
use crate::trust::installed::{Installed, file_in};
use crate::trust::manifest::Manifest;
use crate::trust::sandbox::Grants;

/// The most bytes a plugin may have to be installed, unless `--max-mib`
/// says otherwise.
pub(crate) const DEFAULT_MAX_MIB: u64 = 256;

/// Where a plugin is installed from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// A component on this machine.
    File(PathBuf),
    /// `https://…#sha256:HEX` (or `http://` to a loopback address).
    Url { url: String, pin: String },
    /// `REGISTRY/REPOSITORY[:TAG|@DIGEST]`.
    #[cfg(feature = "registry")]
    Oci(precept_registry::Reference),
}

impl Source {
    /// Reads `text`: a URL; a file, named as one (an absolute path, `./`,
    /// `../`, or ending `.wasm`); else an OCI reference.
    pub(crate) fn parse(text: &str) -> Result<Source, String> {
        if let Some((scheme, _)) = text.split_once("://") {
            if !matches!(scheme, "https" | "http") {
                return Err(format!(
                    "'{}': only https:// URLs are fetched",
                    clean(text, 200)
                ));
            }
            let (url, pin) = text.rsplit_once('#').ok_or_else(|| {
                format!(
                    "{} is not pinned: add its digest, URL#sha256:HEX",
                    clean(text, 200)
                )
            })?;
            return Ok(Source::Url {
                url: url.to_string(),
                pin: pin.to_string(),
            });
        }
        // A file is named as one (`./hello`, `/srv/hello.wasm`): a
        // reference never reads a file that happens to have its name.
        let path = Path::new(text);
        let file = path.is_absolute()
            || text.starts_with("./")
            || text.starts_with("../")
            || text.ends_with(".wasm");
        if file {
            return Ok(Source::File(path.to_path_buf()));
        }
        #[cfg(feature = "registry")]
        {
            precept_registry::Reference::parse(text)
                .map(Source::Oci)
                .map_err(|e| e.to_string())
        }
        #[cfg(not(feature = "registry"))]
        Err(format!(
            "{} is not a file (this build fetches no plugins from registries)",
            clean(text, 200)
        ))
    }

    /// The plugin's name when neither its metadata nor its registry gives
    /// one: the repository's last segment, or the file's stem.
    fn fallback_name(&self) -> String {
        let stem = |path: &str| {
            let file = path.rsplit(['/', '\\']).next().unwrap_or_default();
            file.strip_suffix(".wasm").unwrap_or(file).to_string()
        };
        match self {
            Source::File(path) => stem(&path.to_string_lossy()),
            Source::Url { url, .. } => stem(url.split(['?', '#']).next().unwrap_or_default()),
            #[cfg(feature = "registry")]
            Source::Oci(reference) => reference.name().to_string(),
        }
    }

    /// The source as messages show it: a URL without its query.
    pub(crate) fn shown(&self) -> String {
        match self {
            Source::File(path) => clean(&path.display().to_string(), 300),
            #[cfg(feature = "registry")]
            Source::Url { url, .. } => precept_registry::shown_url(url),
            #[cfg(not(feature = "registry"))]
            Source::Url { url, .. } => clean(url, 300),
            #[cfg(feature = "registry")]
            Source::Oci(reference) => clean(&reference.to_string(), 300),
        }
    }

    /// The source as the record keeps it: a file by its absolute path (an
    /// update must not read another directory's file), else as `text`.
    pub(crate) fn recorded(&self, text: &str) -> String {
        match self {
            Source::File(path) => std::fs::canonicalize(path)
                .map_or_else(|_| text.to_string(), |p| p.display().to_string()),
            _ => text.to_string(),
        }
    }

    /// The same source pinned to `digest`, the digest an earlier install
    /// recorded: a reference's manifest, else the bytes'.
    pub(crate) fn pinned(&self, digest: &str) -> Source {
        match self {
            Source::File(path) => Source::File(path.clone()),
            Source::Url { url, .. } => Source::Url {
                url: url.clone(),
                pin: digest.to_string(),
            },
            #[cfg(feature = "registry")]
            Source::Oci(reference) => Source::Oci(reference.pinned(digest)),
        }
    }
}

/// The bytes of a plugin, fetched into a private temporary file in the
/// plugin home, removed when dropped unless placed.
pub(crate) struct Download {
    path: PathBuf,
    /// What pins this version (see [`Installed::digest`]).
    pub(crate) digest: String,
    /// The SHA-256 digest of the bytes.
    pub(crate) file_digest: String,
    /// The title the registry gives it, if any.
    title: Option<String>,
    placed: bool,
}

impl Drop for Download {
    fn drop(&mut self) {
        if !self.placed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Fetches `source` into a new temporary file in `home`: at most `cap`
/// bytes, every one checked against its digest.
pub(crate) async fn download(source: &Source, home: &Path, cap: u64) -> Result<Download, String> {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let path = home.join(format!(".add-{}-{n}.part", std::process::id()));
    let file = crate::io::files::create_file(&path)
        .map_err(|e| format!("cannot write in {}: {e}", home.display()))?;
    let mut download = Download {
        path,
        digest: String::new(),
        file_digest: String::new(),
        title: None,
        placed: false,
    };
    let fetched = tokio::time::timeout(DOWNLOAD_TIME, fetch(source, file, cap, &mut download));
    let fetched = fetched.await;
    fetched.map_err(|_| {
        format!(
            "the download took longer than {} s",
            DOWNLOAD_TIME.as_secs()
        )
    })??;
    Ok(download)
}

/// The longest a download may take, however slowly its bytes come: the
/// plugin home stays locked meanwhile.
const DOWNLOAD_TIME: std::time::Duration = std::time::Duration::from_secs(600);

/// Fetches `source` into `file`, noting its digests in `download`.
async fn fetch(
    source: &Source,
    file: std::fs::File,
    cap: u64,
    download: &mut Download,
) -> Result<(), String> {
    match source {
        Source::File(from) => {
            let (from, cap) = (from.clone(), cap);
            let copied = tokio::task::spawn_blocking(move || copy_file(&from, file, cap));
            let digest = copied.await.map_err(|e| e.to_string())??;
            download.digest = digest.clone();
            download.file_digest = digest;
        }
        #[cfg(feature = "registry")]
        Source::Url { url, pin } => {
            let mut out = tokio::fs::File::from_std(file);
            let pulled = precept_registry::fetch(url, pin, cap, &mut out)
                .await
                .map_err(|e| e.to_string())?;
            download.digest = pulled.manifest_digest;
            download.file_digest = pulled.layer_digest;
        }
        #[cfg(feature = "registry")]
        Source::Oci(reference) => {
            let mut out = tokio::fs::File::from_std(file);
            let pulled = precept_registry::pull(reference, cap, &mut out)
                .await
                .map_err(|e| e.to_string())?;
            download.digest = pulled.manifest_digest;
            download.file_digest = pulled.layer_digest;
            download.title = pulled
                .annotations
                .get("org.opencontainers.image.title")
                .cloned();
        }
        #[cfg(not(feature = "registry"))]
        Source::Url { .. } => return Err("this build fetches no plugins from URLs".into()),
    }
    Ok(())
}

/// Copies the file `from` into `to`, at most `cap` bytes, as it hashes
/// them; their SHA-256 digest.
fn copy_file(from: &Path, to: std::fs::File, cap: u64) -> Result<String, String> {
    use std::io::Read as _;
    let shown = clean(&from.display().to_string(), 200);
    let file = crate::io::files::open_to_read(from);
    let file = file.map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(format!("{shown} is not a file"));
    }
    let mut hashing = Hashing {
        to,
        hasher: sha2::Sha256::default(),
    };
    let copied = std::io::copy(&mut file.take(cap + 1), &mut hashing)
        .map_err(|e| format!("cannot copy {shown}: {e}"))?;
    if copied > cap {
        return Err(format!("{shown} is larger than {cap} bytes"));
    }
    use sha2::Digest as _;
    let hex: String = hashing
        .hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(format!("sha256:{hex}"))
}

/// A file that hashes what is written to it.
struct Hashing {
    to: std::fs::File,
    hasher: sha2::Sha256,
}

impl std::io::Write for Hashing {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = self.to.write(bytes)?;
        sha2::Digest::update(&mut self.hasher, &bytes[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.to.flush()
    }
}

/// A downloaded component that passed `inspect`'s checks.
pub(crate) struct Checked {
    /// Its name.
    pub(crate) name: String,
    /// Who it says it is and what it declares.
    pub(crate) manifest: Manifest,
    /// The `precept:plugin` version it targets.
    pub(crate) world: String,
    /// The BLAKE3 hash of its file.
    pub(crate) blake3: String,
}

/// Checks the downloaded component as `inspect` does: its file and
/// metadata read with a load's bounds, its name usable, then loaded inert
/// (compiled into `cache_dir` for its first run, `setup` given nothing).
pub(crate) async fn check(
    download: &Download,
    source: &Source,
    cache_dir: Option<PathBuf>,
) -> Result<Checked, String> {
    let path = download.path.clone();
    let read = tokio::task::spawn_blocking(move || {
        crate::compile::cache::fingerprint(&path, None, crate::trust::manifest::read)
    })
    .await
    .map_err(|e| e.to_string())?;
    let (_, manifest) = read.map_err(|e| format!("cannot read the download: {e}"))?;
    let manifest = manifest.map_err(|cause| format!("it is not a plugin: {cause}"))?;
    let name = manifest
        .identity
        .name
        .clone()
        .or_else(|| download.title.clone())
        .unwrap_or_else(|| source.fallback_name());
    let name = usable_name(&name).map_err(|_| {
        format!(
            "its name '{}' is not usable as a plugin's: letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
            clean(&name, 80)
        )
    })?;
    let mut app =
        App::new("precept-inspect", env!("CARGO_PKG_VERSION")).map_err(|e| e.to_string())?;
    app.catch_signals(false).cache_dir(cache_dir);
    app.launch.inert = true;
    // What it prints at setup is not the report: kept, then dropped.
    app.plugin_stdout().capture();
    let options = PluginOptions::from(super::commands::stand_ins(&manifest.capabilities));
    // Its errors name the temporary file: the source is named instead.
    let temporary = crate::io::text::clean(&download.path.display().to_string(), 1000);
    let plugin = app
        .load_plugin_as(&download.path, &name, &options)
        .await
        .map_err(|e| e.to_string().replace(&temporary, &source.shown()))?;
    let (world, blake3) = (plugin.world_version().to_string(), plugin.digest());
    drop(plugin);
    app.shutdown().await;
    Ok(Checked {
        name,
        manifest,
        world,
        blake3,
    })
}

/// The grants for `checked`: `previous` ones, then those `given` by flags
/// for its name, then, on a terminal, what the user grants when asked for
/// each declared capability still without one. Fails closed, with the
/// flags that would grant what is missing.
pub(crate) fn grants(
    checked: &Checked,
    previous: &[String],
    given: &[String],
    ask: bool,
) -> Result<(Vec<String>, Vec<String>), String> {
    let name = &checked.name;
    let declared = &checked.manifest.capabilities;
    // A grant of what a new version no longer declares is dropped, not
    // kept against it.
    let mut chosen: Vec<String> = Vec::new();
    for text in previous {
        let mut one = Grants::default();
        parse_grant(name, &with_value(text))?.1.add_to(&mut one);
        match declared.resolve(name, &one) {
            Err(CapabilityError::Undeclared(what) | CapabilityError::NotAHost(what)) => {
                eprintln!("{name} no longer declares {what}: that grant is dropped");
            }
            _ => chosen.push(text.clone()),
        }
    }
    chosen.extend(given.iter().cloned());
    if ask && std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        ask_for(declared, &mut chosen)?;
    }
    let mut grants = Grants::default();
    for text in &chosen {
        parse_grant(name, &with_value(text))?.1.add_to(&mut grants);
    }
    let granted = declared
        .resolve(name, &grants)
        .map_err(|e| format!("{name} {e}"))?;
    Ok((chosen, granted.iter().map(ToString::to_string).collect()))
}

/// A recorded grant with a value to check: `env=VAR` names the host's
/// value when the plugin loads, and needs none here.
fn with_value(text: &str) -> String {
    match text.strip_prefix("env=") {
        Some(var) if !var.contains('=') => format!("env={var}="),
        _ => text.to_string(),
    }
}

/// Asks, on the terminal, for each declared capability not yet granted.
fn ask_for(declared: &Capabilities, chosen: &mut Vec<String>) -> Result<(), String> {
    let has = |chosen: &[String], prefix: &str, what: &str| {
        chosen.iter().any(|c| {
            c.strip_prefix(prefix).is_some_and(|rest| {
                rest.split("::").last() == Some(what) || rest.split('=').next() == Some(what)
            })
        })
    };
    let need = |required: bool| if required { "required" } else { "optional" };
    for dir in &declared.dirs {
        if has(chosen, "dir=", &dir.path) || has(chosen, "dir-rw=", &dir.path) {
            continue;
        }
        let answer = prompt(&format!(
            "grant directory {} ({}, {}: {})? host directory, or empty for no: ",
            dir.path,
            dir.access.as_str(),
            need(dir.required),
            clean(&dir.purpose, 200)
        ))?;
        if !answer.is_empty() {
            let kind = if dir.access == Access::ReadWrite {
                "dir-rw"
            } else {
                "dir"
            };
            chosen.push(format!("{kind}={answer}::{}", dir.path));
        }
    }
    for env in &declared.env {
        if has(chosen, "env=", &env.name) {
            continue;
        }
        let question = format!(
            "grant environment variable {} ({}: {}), its value when the plugin runs? [y/N] ",
            env.name,
            need(env.required),
            clean(&env.purpose, 200)
        );
        if prompt(&question)?.eq_ignore_ascii_case("y") {
            chosen.push(format!("env={}", env.name));
        }
    }
    for net in &declared.net {
        if chosen
            .iter()
            .any(|c| c.strip_prefix("net=").is_some_and(|h| net.covers(h)))
        {
            continue;
        }
        let wildcard = net.host.contains('*');
        let question = if wildcard {
            format!(
                "grant network access within {} ({}: {})? HOST:PORT, or empty for no: ",
                net.host,
                need(net.required),
                clean(&net.purpose, 200)
            )
        } else {
            format!(
                "grant network host {} ({}: {})? [y/N] ",
                net.host,
                need(net.required),
                clean(&net.purpose, 200)
            )
        };
        let answer = prompt(&question)?;
        if wildcard && !answer.is_empty() {
            chosen.push(format!("net={answer}"));
        } else if !wildcard && answer.eq_ignore_ascii_case("y") {
            chosen.push(format!("net={}", net.host));
        }
    }
    Ok(())
}

/// Asks `question` on standard error; the answer, trimmed.
fn prompt(question: &str) -> Result<String, String> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    Ok(line.trim().to_string())
}

/// Shows the user what is about to be installed.
pub(crate) fn show(checked: &Checked, source: &str, download: &Download) {
    let identity = &checked.manifest.identity;
    let version = identity.version.as_deref().unwrap_or("(no version)");
    let mut text = format!(
        "plugin {} {} (precept:plugin@{})\n  from {} ({})\n",
        checked.name,
        clean(version, 80),
        checked.world,
        clean(source, 300),
        download.digest
    );
    if let Some(description) = &identity.description {
        text.push_str(&format!("  {}\n", clean(description, 300)));
    }
    let declares = checked.manifest.capabilities.describe();
    if declares.is_empty() {
        text.push_str("  declares nothing: no files, no environment, no network\n");
    }
    for capability in declares {
        text.push_str(&format!("  declares {}\n", clean(&capability, 300)));
    }
    eprint!("{text}");
}

/// Moves the download into place as `home/NAME.wasm` and returns its
/// record.
pub(crate) fn place(
    mut download: Download,
    checked: Checked,
    source: &str,
    grants: (Vec<String>, Vec<String>),
    home: &Path,
) -> Result<Installed, String> {
    let to = file_in(home, &checked.name);
    std::fs::rename(&download.path, &to)
        .map_err(|e| format!("cannot move it into {}: {e}", home.display()))?;
    download.placed = true;
    Ok(Installed {
        name: checked.name,
        source: source.to_string(),
        digest: std::mem::take(&mut download.digest),
        file_digest: std::mem::take(&mut download.file_digest),
        blake3: checked.blake3,
        world: checked.world,
        declares: checked.manifest.capabilities.describe(),
        grants: grants.0,
        granted: grants.1,
        lazy: checked.manifest.lazy,
        identity: checked.manifest.identity,
    })
}
