//! Installing plugins from a real OCI registry: `precept-build publish`,
//! `plugin add`, `list`, `remove`, `update`, `install --locked`, interop
//! with an independent client (Python `oras`), and every bad input a
//! registry, a proxy or a plugin's author can give, each refused in one
//! line with nothing installed.
//!
//! A binary of its own with its own harness (libtest-mimic): without
//! `docker-registry` (or `oras`, for the interop tests) a test shows as
//! ignored with what to install, and fails in CI (`CI=true`).

#[path = "../all/common.rs"]
#[allow(dead_code)]
mod common;
mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{HELLO_LIFECYCLE, hello_lines, precept_run_in, scratch, text};
use libtest_mimic::{Arguments, Failed, Trial};
use server::Registry;

type Test = fn() -> Result<(), Failed>;

fn main() {
    let registry_tests: &[(&str, Test)] = &[
        (
            "a_plugin_added_from_a_registry_loads_at_start_with_no_flag",
            added_plugin_loads,
        ),
        ("list_and_remove", list_and_remove),
        (
            "install_locked_under_another_home_gives_the_same_bytes",
            install_locked,
        ),
        (
            "a_pinned_url_installs_and_a_wrong_pin_is_refused",
            pinned_url,
        ),
        ("an_unreachable_registry_is_one_line", unreachable),
        ("an_unknown_tag_is_one_line", unknown_tag),
        (
            "bytes_that_do_not_match_their_digest_are_refused",
            corrupted_blob,
        ),
        (
            "a_component_over_the_cap_is_refused_before_download",
            over_the_cap,
        ),
        (
            "a_layer_larger_than_its_manifest_says_is_cut_while_streaming",
            lying_size,
        ),
        (
            "a_manifest_of_another_media_type_is_refused",
            wrong_media_type,
        ),
        ("a_manifest_with_two_layers_is_refused", two_layers),
        ("bytes_that_are_not_a_plugin_are_refused", not_a_component),
        (
            "a_moved_tag_that_declares_a_new_capability_needs_a_grant",
            new_capability,
        ),
        ("names_that_are_not_plugin_names_are_refused", bad_names),
        ("two_adds_at_once_both_install", two_adds_at_once),
        ("a_download_cut_half_way_keeps_nothing", interrupted),
        (
            "plain_http_to_a_non_loopback_address_is_refused",
            plain_http,
        ),
        ("another_record_grants_nothing_unasked", foreign_record),
        (
            "installed_grants_go_to_the_installed_file_only",
            grants_stay_with_the_file,
        ),
        ("a_plugin_home_open_to_others_loads_nothing", open_home),
        (
            "on_a_terminal_add_asks_for_each_capability",
            asks_on_a_terminal,
        ),
        (
            "credentials_come_from_docker_config_or_the_named_host_and_are_never_shown",
            credentials,
        ),
    ];
    let oras_tests: &[(&str, Test)] = &[
        (
            "what_publish_pushes_oras_pulls_byte_identical",
            oras_pulls_what_publish_pushed,
        ),
        (
            "what_oras_pushes_plugin_add_installs",
            add_installs_what_oras_pushed,
        ),
    ];
    let ci = std::env::var_os("CI").is_some();
    let registry = server::available()
        .then_some(())
        .ok_or(server::INSTALL.to_string());
    let oras = registry.clone().and_then(|()| {
        let found = Command::new("python3")
            .args(["-c", "import oras.client"])
            .output();
        found
            .is_ok_and(|o| o.status.success())
            .then_some(())
            .ok_or("python3 -m pip install oras (or run .ci/toolchains)".to_string())
    });
    let python = registry.clone().and_then(|()| {
        precept_tests::HELLO_PYTHON
            .map(|_| ())
            .map_err(str::to_string)
    });
    let trial = |name: &str, test: Test, needs: &Result<(), String>| match needs {
        Err(install) if !ci => {
            eprintln!("{name}: ignored, missing: {install}");
            Trial::test(name, || Ok(())).with_ignored_flag(true)
        }
        _ => Trial::test(name, test),
    };
    let mut trials: Vec<Trial> = registry_tests
        .iter()
        .map(|(name, test)| trial(name, *test, &registry))
        .collect();
    trials.extend(
        oras_tests
            .iter()
            .map(|(name, test)| trial(name, *test, &oras)),
    );
    trials.push(trial(
        "publish_python_hello_add_it_and_run_it",
        published_python_hello_runs,
        &python,
    ));
    libtest_mimic::run(&Arguments::from_args(), trials).exit();
}

/// The plugin home of `precept-run` run with `dir` as its home.
fn home(dir: &Path) -> PathBuf {
    dir.join(".local/share/precept-run/plugins")
}

fn run(dir: &Path, args: &[&str]) -> Output {
    precept_run_in(dir, args)
}

/// Publishes the component `file` to `reference` with `precept-build`'s
/// library; the pinned reference.
fn publish(file: &str, reference: &str) -> String {
    let builder = precept_build::Builder::new();
    precept_build::publish::publish(Path::new(file), reference, &builder, &std::env::temp_dir())
        .expect("publish")
}

/// What the plugin home holds besides its lock and its record (with the
/// record's index): files, and recorded names.
fn installed(dir: &Path) -> (Vec<String>, Vec<String>) {
    let home = home(dir);
    let mut files: Vec<String> = std::fs::read_dir(&home)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    !matches!(
                        n.as_str(),
                        ".lock" | "installed.toml" | "installed.index.json"
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let record = std::fs::read_to_string(home.join("installed.toml")).unwrap_or_default();
    let record: toml::Table = toml::from_str(&record).unwrap();
    let names = record
        .get("plugin")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    (files, names)
}

/// `output` failed with one line on stderr that contains `needle`, and
/// nothing is installed in `dir`.
fn refused(dir: &Path, output: &Output, needle: &str) -> Result<(), Failed> {
    let stderr = text(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    if output.status.success() || lines.len() != 1 || !lines[0].contains(needle) {
        return Err(format!(
            "expected one error line with '{needle}', got status {:?} and:\n{stderr}",
            output.status.code()
        )
        .into());
    }
    let (files, names) = installed(dir);
    if !files.is_empty() || !names.is_empty() {
        return Err(format!("something was kept: {files:?} {names:?}").into());
    }
    Ok(())
}

fn ok(output: &Output) -> Result<(), Failed> {
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "failed ({:?}):\n{}{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
    .into())
}

/// A fresh directory and registry for one test.
fn setup(name: &str) -> (PathBuf, Registry) {
    let dir = scratch(&format!("registry-{name}"));
    let registry = Registry::start(&dir);
    (dir, registry)
}

fn added_plugin_loads() -> Result<(), Failed> {
    let (dir, registry) = setup("loads");
    let reference = format!("{}/demo/hello:0.1.0", registry.addr);
    publish(precept_tests::HELLO, &reference);
    ok(&run(&dir, &["plugin", "add", &reference]))?;
    let out = run(&dir, &["dispatch", "x"]);
    ok(&out)?;
    assert_eq!(hello_lines(&text(&out.stdout)), HELLO_LIFECYCLE);
    let skipped = run(&dir, &["--no-installed", "dispatch", "x"]);
    ok(&skipped)?;
    assert!(hello_lines(&text(&skipped.stdout)).is_empty());
    // The file is checked against its record at every start.
    let file = home(&dir).join("hello.wasm");
    let mut bytes = std::fs::read(&file)?;
    bytes.extend([0, 2, 1, b'x']); // One more custom section.
    std::fs::write(&file, bytes)?;
    let changed = run(&dir, &["dispatch", "x"]);
    let stderr = text(&changed.stderr);
    assert!(stderr.contains("its file changed"), "{stderr}");
    assert!(hello_lines(&text(&changed.stdout)).is_empty());
    Ok(())
}

fn list_and_remove() -> Result<(), Failed> {
    let (dir, registry) = setup("list");
    let reference = format!("{}/demo/hello:0.1.0", registry.addr);
    let pinned = publish(precept_tests::HELLO, &reference);
    ok(&run(&dir, &["plugin", "add", &reference]))?;
    let list = run(&dir, &["plugin", "list"]);
    ok(&list)?;
    let digest = pinned.split('@').nth(1).unwrap();
    let listed = text(&list.stdout);
    assert!(
        listed.starts_with("hello 0.1.0 from ") && listed.contains(&digest[..19]),
        "{listed}"
    );
    assert!(listed.contains("nothing granted"), "{listed}");
    let again = run(&dir, &["plugin", "add", &reference]);
    assert!(text(&again.stderr).contains("installed already"));
    ok(&run(&dir, &["plugin", "remove", "HELLO"]))?;
    assert_eq!(installed(&dir), (vec![], vec![]));
    let out = run(&dir, &["dispatch", "x"]);
    assert!(hello_lines(&text(&out.stdout)).is_empty());
    let gone = run(&dir, &["plugin", "remove", "hello"]);
    assert!(!gone.status.success() && text(&gone.stderr).contains("not installed"));
    Ok(())
}

fn install_locked() -> Result<(), Failed> {
    let (dir, registry) = setup("locked");
    let hello = format!("{}/demo/hello:1", registry.addr);
    let greet = format!("{}/demo/greet:1", registry.addr);
    publish(precept_tests::HELLO, &hello);
    publish(precept_tests::GREET, &greet);
    ok(&run(&dir, &["plugin", "add", &hello]))?;
    ok(&run(&dir, &["plugin", "add", &greet]))?;
    // The tag moves on; the record still pins the first version.
    publish(precept_tests::PONG, &hello);
    let record = home(&dir).join("installed.toml");
    let other = scratch("registry-locked-other");
    let out = run(
        &other,
        &["plugin", "install", "--locked", record.to_str().unwrap()],
    );
    ok(&out)?;
    let theirs = std::fs::read_to_string(home(&other).join("installed.toml"))?;
    let ours = std::fs::read_to_string(&record)?;
    let digests = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| {
                l.starts_with("digest") || l.starts_with("file_digest") || l.starts_with("blake3")
            })
            .map(str::to_string)
            .collect()
    };
    assert_eq!(digests(&theirs), digests(&ours));
    assert_eq!(digests(&ours).len(), 6);
    for name in ["hello.wasm", "greet.wasm"] {
        assert_eq!(
            std::fs::read(home(&dir).join(name))?,
            std::fs::read(home(&other).join(name))?
        );
    }
    // Again: nothing to do.
    let again = run(
        &other,
        &["plugin", "install", "--locked", record.to_str().unwrap()],
    );
    ok(&again)?;
    assert!(text(&again.stderr).contains("hello is installed"));
    // A record whose hash is not the bytes': that plugin is not installed,
    // the other is.
    let tampered = std::fs::read_to_string(&record)?;
    let hello_hash = tampered
        .lines()
        .find(|l| l.starts_with("blake3"))
        .unwrap()
        .to_string();
    let forged = dir.join("forged.toml");
    std::fs::write(
        &forged,
        tampered.replacen(&hello_hash, &format!("blake3 = \"{}\"", "0".repeat(64)), 1),
    )?;
    let third = scratch("registry-locked-third");
    let out = run(
        &third,
        &["plugin", "install", "--locked", forged.to_str().unwrap()],
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("error: cannot install hello: it is not the plugin recorded"),
        "{stderr}"
    );
    assert_eq!(
        installed(&third),
        (vec!["greet.wasm".into()], vec!["greet".into()])
    );
    Ok(())
}

fn pinned_url() -> Result<(), Failed> {
    let (dir, registry) = setup("url");
    let pinned = publish(
        precept_tests::HELLO,
        &format!("{}/demo/hello:1", registry.addr),
    );
    let _ = pinned;
    let digest = precept_registry::sha256_digest(&std::fs::read(precept_tests::HELLO)?);
    let url = format!("http://{}/v2/demo/hello/blobs/{digest}", registry.addr);
    let wrong = format!("sha256:{}", "0".repeat(64));
    refused(
        &dir,
        &run(&dir, &["plugin", "add", &format!("{url}#{wrong}")]),
        "do not match their digest",
    )?;
    refused(&dir, &run(&dir, &["plugin", "add", &url]), "is not pinned")?;
    ok(&run(&dir, &["plugin", "add", &format!("{url}#{digest}")]))?;
    let out = run(&dir, &["dispatch", "x"]);
    assert_eq!(hello_lines(&text(&out.stdout)), HELLO_LIFECYCLE);
    Ok(())
}

fn unreachable() -> Result<(), Failed> {
    let dir = scratch("registry-unreachable");
    // Nothing listens on a port just freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let out = run(
        &dir,
        &["plugin", "add", &format!("127.0.0.1:{port}/demo/hello:1")],
    );
    refused(&dir, &out, "cannot reach")
}

fn unknown_tag() -> Result<(), Failed> {
    let (dir, registry) = setup("unknown");
    publish(
        precept_tests::HELLO,
        &format!("{}/demo/hello:1", registry.addr),
    );
    let out = run(
        &dir,
        &["plugin", "add", &format!("{}/demo/hello:2", registry.addr)],
    );
    refused(&dir, &out, "is not in the registry")
}

fn corrupted_blob() -> Result<(), Failed> {
    let (dir, registry) = setup("corrupt");
    let reference = format!("{}/demo/hello:1", registry.addr);
    publish(precept_tests::HELLO, &reference);
    let bytes = std::fs::read(precept_tests::HELLO)?;
    let blob = registry.blob_file(&precept_registry::sha256_digest(&bytes));
    let mut served = std::fs::read(&blob)?;
    let middle = served.len() / 2;
    served[middle] ^= 0xff;
    std::fs::write(&blob, served)?;
    refused(
        &dir,
        &run(&dir, &["plugin", "add", &reference]),
        "do not match their digest",
    )
}

fn over_the_cap() -> Result<(), Failed> {
    let (dir, registry) = setup("cap");
    let reference = format!("{}/demo/bulky:1", registry.addr);
    publish(precept_tests::BULKY, &reference);
    let out = run(&dir, &["plugin", "add", "--max-mib", "1", &reference]);
    refused(&dir, &out, " bytes) is larger than 1048576 bytes")
}

fn lying_size() -> Result<(), Failed> {
    let (dir, registry) = setup("lying");
    let bytes = std::fs::read(precept_tests::HELLO)?;
    let layers = [("application/wasm", bytes.as_slice(), 1000)];
    let reference = registry.push_manifest(
        "demo/hello",
        "1",
        "application/vnd.wasm.config.v0+json",
        &layers,
        serde_json::json!({}),
    );
    let out = run(&dir, &["plugin", "add", &reference]);
    refused(
        &dir,
        &out,
        "which its manifest says is 1000 bytes, is larger than 1000 bytes",
    )
}

fn wrong_media_type() -> Result<(), Failed> {
    let (dir, registry) = setup("media");
    let bytes = std::fs::read(precept_tests::HELLO)?;
    let layers = [("application/wasm", bytes.as_slice(), bytes.len())];
    let image = registry.push_manifest(
        "demo/hello",
        "1",
        "application/vnd.oci.image.config.v1+json",
        &layers,
        serde_json::json!({}),
    );
    refused(
        &dir,
        &run(&dir, &["plugin", "add", &image]),
        "is not a wasm component",
    )?;
    let layers = [(
        "application/vnd.oci.image.layer.v1.tar+gzip",
        bytes.as_slice(),
        bytes.len(),
    )];
    let tarball = registry.push_manifest(
        "demo/hello",
        "2",
        "application/vnd.wasm.config.v0+json",
        &layers,
        serde_json::json!({}),
    );
    refused(
        &dir,
        &run(&dir, &["plugin", "add", &tarball]),
        "its layer's media type",
    )
}

fn two_layers() -> Result<(), Failed> {
    let (dir, registry) = setup("layers");
    let hello = std::fs::read(precept_tests::HELLO)?;
    let greet = std::fs::read(precept_tests::GREET)?;
    let layers = [
        ("application/wasm", hello.as_slice(), hello.len()),
        ("application/wasm", greet.as_slice(), greet.len()),
    ];
    let reference = registry.push_manifest(
        "demo/hello",
        "1",
        "application/vnd.wasm.config.v0+json",
        &layers,
        serde_json::json!({}),
    );
    refused(
        &dir,
        &run(&dir, &["plugin", "add", &reference]),
        "has 2 layers",
    )
}

fn not_a_component() -> Result<(), Failed> {
    let (dir, registry) = setup("garbage");
    let garbage = b"\0asm\x0d\0\x01\0 this is not a component".to_vec();
    let layers = [("application/wasm", garbage.as_slice(), garbage.len())];
    let reference = registry.push_manifest(
        "demo/hello",
        "1",
        "application/vnd.wasm.config.v0+json",
        &layers,
        serde_json::json!({}),
    );
    refused(
        &dir,
        &run(&dir, &["plugin", "add", &reference]),
        "could not be compiled",
    )?;
    // A component of another world.
    let reference = format!("{}/demo/other:1", registry.addr);
    publish(precept_tests::OTHER_WORLD, &reference);
    refused(
        &dir,
        &run(&dir, &["plugin", "add", &reference]),
        "does not fit the precept:plugin world",
    )
}

/// `bytes` with one more custom section `name` at the top level.
fn with_section(mut bytes: Vec<u8>, name: &str, data: &[u8]) -> Vec<u8> {
    let mut section = leb128(name.len());
    section.extend(name.as_bytes());
    section.extend(data);
    bytes.push(0);
    bytes.extend(leb128(section.len()));
    bytes.extend(section);
    bytes
}

fn leb128(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn new_capability() -> Result<(), Failed> {
    let (dir, registry) = setup("capability");
    let reference = format!("{}/demo/hello:stable", registry.addr);
    publish(precept_tests::HELLO, &reference);
    ok(&run(&dir, &["plugin", "add", &reference]))?;
    let before = std::fs::read(home(&dir).join("hello.wasm"))?;
    // The tag moves to a build that asks for the network.
    publish_networked_hello(&reference)?;
    let refused = run(&dir, &["plugin", "update"]);
    let stderr = text(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(
        stderr.contains("it now declares network host example.com:443"),
        "{stderr}"
    );
    assert!(stderr.contains("--net hello=example.com:443"), "{stderr}");
    assert!(stderr.contains("the installed version is kept"), "{stderr}");
    assert_eq!(std::fs::read(home(&dir).join("hello.wasm"))?, before);
    assert_eq!(
        installed(&dir),
        (vec!["hello.wasm".into()], vec!["hello".into()])
    );
    // Granted, it is installed with the grant recorded.
    let granted = run(
        &dir,
        &[
            "plugin",
            "update",
            "hello",
            "--net",
            "hello=example.com:443",
        ],
    );
    ok(&granted)?;
    let record = std::fs::read_to_string(home(&dir).join("installed.toml"))?;
    assert!(record.contains("net=example.com:443"), "{record}");
    let again = run(&dir, &["plugin", "update"]);
    ok(&again)?;
    assert!(text(&again.stderr).contains("hello is up to date"));
    // The tag moves back to a build that declares nothing: the grant
    // goes with the capability.
    publish(precept_tests::HELLO, &reference);
    let back = run(&dir, &["plugin", "update", "hello"]);
    ok(&back)?;
    let stderr = text(&back.stderr);
    assert!(
        stderr.contains("hello no longer declares network host example.com:443"),
        "{stderr}"
    );
    let record = std::fs::read_to_string(home(&dir).join("installed.toml"))?;
    assert!(!record.contains("net=example.com:443"), "{record}");
    Ok(())
}

/// Publishes hello with a manifest that requires `example.com:443` to
/// `reference`.
fn publish_networked_hello(reference: &str) -> Result<(), Failed> {
    let manifest = b"[plugin]\nname = \"hello\"\n\n[[net]]\nhost = \"example.com:443\"\npurpose = \"to phone home\"\n";
    let bytes = with_section(
        std::fs::read(precept_tests::HELLO)?,
        "precept-manifest",
        manifest,
    );
    let file = std::env::temp_dir().join(format!(
        "precept-hello-net-{}-{}.wasm",
        std::process::id(),
        reference.len()
    ));
    std::fs::write(&file, bytes)?;
    publish(file.to_str().unwrap(), reference);
    Ok(())
}

fn foreign_record() -> Result<(), Failed> {
    let (dir, registry) = setup("foreign");
    let reference = format!("{}/demo/hello:net", registry.addr);
    publish_networked_hello(&reference)?;
    let grant = ["--net", "hello=example.com:443"];
    ok(&run(
        &dir,
        &["plugin", "add", &reference, grant[0], grant[1]],
    ))?;
    let record = home(&dir).join("installed.toml");
    let record = record.to_str().unwrap();
    let other = scratch("registry-foreign-other");
    let out = run(&other, &["plugin", "install", "--locked", record]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("--net hello=example.com:443"), "{stderr}");
    assert_eq!(installed(&other), (vec![], vec![]));
    // Granted by a flag, or taken from the record when asked.
    ok(&run(
        &other,
        &["plugin", "install", "--locked", record, grant[0], grant[1]],
    ))?;
    let third = scratch("registry-foreign-third");
    ok(&run(
        &third,
        &["plugin", "install", "--locked", record, "--with-grants"],
    ))?;
    assert_eq!(
        installed(&third),
        (vec!["hello.wasm".into()], vec!["hello".into()])
    );
    Ok(())
}

fn grants_stay_with_the_file() -> Result<(), Failed> {
    let (dir, registry) = setup("same-name");
    let reference = format!("{}/demo/hello:net", registry.addr);
    publish_networked_hello(&reference)?;
    ok(&run(
        &dir,
        &[
            "plugin",
            "add",
            &reference,
            "--net",
            "hello=example.com:443",
        ],
    ))?;
    // Another file named hello that needs the same host, in a plugin
    // directory (loaded before the installed plugins): it gets none of
    // the installed one's grants, so it is refused for want of one; the
    // installed one runs.
    let other_dir = dir.join("other");
    std::fs::create_dir_all(&other_dir)?;
    let networked = std::fs::read(std::env::temp_dir().join(format!(
        "precept-hello-net-{}-{}.wasm",
        std::process::id(),
        reference.len()
    )))?;
    let other_bytes = with_section(networked, "other", b"x");
    std::fs::write(other_dir.join("hello.wasm"), other_bytes)?;
    let out = run(
        &dir,
        &["--plugin-dir", other_dir.to_str().unwrap(), "dispatch", "x"],
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("needs what it was not granted: network host example.com:443"),
        "{stderr}"
    );
    assert_eq!(hello_lines(&text(&out.stdout)), HELLO_LIFECYCLE, "{stderr}");
    Ok(())
}

fn open_home() -> Result<(), Failed> {
    let (dir, registry) = setup("open-home");
    let reference = format!("{}/demo/hello:1", registry.addr);
    publish(precept_tests::HELLO, &reference);
    ok(&run(&dir, &["plugin", "add", &reference]))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(home(&dir), std::fs::Permissions::from_mode(0o777))?;
        let out = run(&dir, &["dispatch", "x"]);
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("the plugin home is not private"),
            "{stderr}"
        );
        assert!(hello_lines(&text(&out.stdout)).is_empty());
        let add = run(&dir, &["plugin", "add", &reference]);
        assert!(text(&add.stderr).contains("not private"));
    }
    Ok(())
}

/// `precept-run ARGS` on a terminal (`script` gives it one), answering
/// `input`; what the terminal showed, and whether it succeeded.
fn on_terminal(dir: &Path, args: &[&str], input: &str) -> Result<(String, bool), Failed> {
    use std::io::Write as _;
    let command = format!("{} {}", common::PRECEPT_RUN, args.join(" "));
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("HOME", dir)
        .env_remove("XDG_DATA_HOME")
        .env_remove("PRECEPT_RUN_PLUGIN_HOME")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    child.stdin.take().unwrap().write_all(input.as_bytes())?;
    let out = child.wait_with_output()?;
    Ok((text(&out.stdout), out.status.success()))
}

fn asks_on_a_terminal() -> Result<(), Failed> {
    let (dir, registry) = setup("terminal");
    let reference = format!("{}/demo/hello:net", registry.addr);
    publish_networked_hello(&reference)?;
    let question = "grant network host example.com:443 (required: to phone home)? [y/N]";
    let (shown, added) = on_terminal(&dir, &["plugin", "add", &reference], "n\n")?;
    assert!(!added && shown.contains(question), "{shown}");
    assert!(shown.contains("--net hello=example.com:443"), "{shown}");
    assert_eq!(installed(&dir), (vec![], vec![]));
    let (shown, added) = on_terminal(&dir, &["plugin", "add", &reference], "y\n")?;
    assert!(added && shown.contains(question), "{shown}");
    let record = std::fs::read_to_string(home(&dir).join("installed.toml"))?;
    assert!(record.contains("net=example.com:443"), "{record}");
    Ok(())
}

fn credentials() -> Result<(), Failed> {
    let dir = scratch("registry-auth");
    // Published while the registry is open, then served asking for a user.
    let open = Registry::start(&dir);
    publish(precept_tests::HELLO, &format!("{}/demo/hello:1", open.addr));
    drop(open);
    let password = "s3cret-pw";
    let hash = bcrypt::hash(password, 4)?;
    let registry = Registry::start_with(&dir, Some(&format!("me:{hash}")));
    let reference = format!("{}/demo/hello:1", registry.addr);
    let config = dir.join("docker");
    std::fs::create_dir_all(&config)?;
    let add = |env: &[(&str, &str)]| {
        Command::new(common::PRECEPT_RUN)
            .args(["plugin", "add", &reference])
            .env("HOME", &dir)
            .env_remove("XDG_DATA_HOME")
            .env_remove("PRECEPT_RUN_PLUGIN_HOME")
            .env_remove("DOCKER_CONFIG")
            .env_remove("PRECEPT_REGISTRY_HOST")
            .envs(env.iter().copied())
            .output()
    };
    let docker = |user: &str, password: &str| -> Result<(), Failed> {
        let auths = serde_json::json!({
            "auths": { registry.addr.as_str(): { "username": user, "password": password } }
        });
        std::fs::write(config.join("config.json"), auths.to_string())?;
        Ok(())
    };
    let config_dir = config.to_str().unwrap();
    let shown = |out: &Output| text(&out.stderr) + &text(&out.stdout);
    refused(&dir, &add(&[])?, "not authorized")?;
    let elsewhere = [
        ("PRECEPT_REGISTRY_HOST", "ghcr.io"),
        ("PRECEPT_REGISTRY_USERNAME", "me"),
        ("PRECEPT_REGISTRY_PASSWORD", password),
    ];
    refused(&dir, &add(&elsewhere)?, "not authorized")?;
    docker("me", "wrong-pw")?;
    let wrong = add(&[("DOCKER_CONFIG", config_dir)])?;
    refused(&dir, &wrong, "not authorized")?;
    assert!(!shown(&wrong).contains("wrong-pw"));
    docker("me", password)?;
    let right = add(&[("DOCKER_CONFIG", config_dir)])?;
    ok(&right)?;
    assert!(!shown(&right).contains(password));
    ok(&run(&dir, &["plugin", "remove", "hello"]))?;
    let here = [
        ("PRECEPT_REGISTRY_HOST", registry.addr.as_str()),
        ("PRECEPT_REGISTRY_USERNAME", "me"),
        ("PRECEPT_REGISTRY_PASSWORD", password),
    ];
    let by_variables = add(&here)?;
    ok(&by_variables)?;
    assert!(!shown(&by_variables).contains(password));
    Ok(())
}

/// `bytes` named `name` at the top level (a `component-name` section).
fn named(bytes: Vec<u8>, name: &str) -> Vec<u8> {
    let mut subsection = leb128(name.len());
    subsection.extend(name.as_bytes());
    let mut data = vec![0];
    data.extend(leb128(subsection.len()));
    data.extend(subsection);
    with_section(bytes, "component-name", &data)
}

fn bad_names() -> Result<(), Failed> {
    let (dir, registry) = setup("names");
    let hello = std::fs::read(precept_tests::HELLO)?;
    for (tag, name) in [("1", ".."), ("2", "a/b"), ("3", "bell\x07\x1b[31m")] {
        let file =
            std::env::temp_dir().join(format!("precept-named-{tag}-{}.wasm", std::process::id()));
        std::fs::write(&file, named(hello.clone(), name))?;
        let reference = format!("{}/demo/hello:{tag}", registry.addr);
        publish(file.to_str().unwrap(), &reference);
        let out = run(&dir, &["plugin", "add", &reference]);
        refused(&dir, &out, "is not usable")?;
        assert!(!text(&out.stderr).contains('\x1b') && !text(&out.stderr).contains('\x07'));
    }
    Ok(())
}

fn two_adds_at_once() -> Result<(), Failed> {
    let (dir, registry) = setup("twice");
    let hello = format!("{}/demo/hello:1", registry.addr);
    let greet = format!("{}/demo/greet:1", registry.addr);
    publish(precept_tests::HELLO, &hello);
    publish(precept_tests::GREET, &greet);
    let spawn = |reference: &str| {
        Command::new(common::PRECEPT_RUN)
            .args(["plugin", "add", reference])
            .env("HOME", &dir)
            .env_remove("XDG_DATA_HOME")
            .env_remove("PRECEPT_RUN_PLUGIN_HOME")
            .output()
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| spawn(&hello));
        let b = s.spawn(|| spawn(&greet));
        (a.join().unwrap(), b.join().unwrap())
    });
    ok(&a?)?;
    ok(&b?)?;
    let (files, mut names) = installed(&dir);
    names.sort();
    assert_eq!(files, ["greet.wasm", "hello.wasm"]);
    assert_eq!(names, ["greet", "hello"]);
    // A third waits for the lock another holds, and says so.
    let lock = std::fs::File::options()
        .write(true)
        .open(home(&dir).join(".lock"))?;
    lock.lock()?;
    let pong = format!("{}/demo/pong:1", registry.addr);
    publish(precept_tests::PONG, &pong);
    let waiting = std::thread::scope(|s| {
        let third = s.spawn(|| spawn(&pong));
        std::thread::sleep(std::time::Duration::from_secs(1));
        lock.unlock().unwrap();
        third.join().unwrap()
    })?;
    ok(&waiting)?;
    let stderr = text(&waiting.stderr);
    assert!(
        stderr.contains("waiting for another plugin command to finish"),
        "{stderr}"
    );
    Ok(())
}

fn interrupted() -> Result<(), Failed> {
    let (dir, registry) = setup("cut");
    publish(
        precept_tests::HELLO,
        &format!("{}/demo/hello:1", registry.addr),
    );
    let half = std::fs::metadata(precept_tests::HELLO)?.len() as usize / 2;
    let proxy = server::cutting_proxy(&registry.addr, half);
    let out = run(&dir, &["plugin", "add", &format!("{proxy}/demo/hello:1")]);
    refused(&dir, &out, "ended early")
}

fn plain_http() -> Result<(), Failed> {
    let dir = scratch("registry-http");
    let pin = format!("sha256:{}", "0".repeat(64));
    for host in ["192.0.2.1", "example.com", "127.0.0.1.nip.io", "[::2]"] {
        let out = run(
            &dir,
            &["plugin", "add", &format!("http://{host}/x.wasm#{pin}")],
        );
        refused(&dir, &out, "refusing plain http://")?;
    }
    Ok(())
}

fn oras(script: &str) -> Result<(), Failed> {
    let out = Command::new("python3").args(["-c", script]).output()?;
    if !out.status.success() {
        return Err(format!("oras: {}", text(&out.stderr)).into());
    }
    Ok(())
}

fn oras_pulls_what_publish_pushed() -> Result<(), Failed> {
    let (dir, registry) = setup("oras-pull");
    let reference = format!("{}/demo/hello:1", registry.addr);
    publish(precept_tests::HELLO, &reference);
    let out = dir.join("pulled");
    oras(&format!(
        "import oras.client\nc = oras.client.OrasClient(insecure=True)\nc.pull(target={reference:?}, outdir={:?})",
        out.display().to_string()
    ))?;
    let pulled: Vec<_> = std::fs::read_dir(&out)?.collect();
    assert_eq!(pulled.len(), 1);
    let path = pulled.into_iter().next().unwrap()?.path();
    assert_eq!(std::fs::read(path)?, std::fs::read(precept_tests::HELLO)?);
    Ok(())
}

fn add_installs_what_oras_pushed() -> Result<(), Failed> {
    let (dir, registry) = setup("oras-push");
    let reference = format!("{}/demo/greet:1", registry.addr);
    let work = dir.join("oras");
    std::fs::create_dir_all(&work)?;
    std::fs::copy(precept_tests::HELLO, work.join("hello.wasm"))?;
    std::fs::write(work.join("config.json"), "{}")?;
    oras(&format!(
        "import os, oras.client\nos.chdir({:?})\nc = oras.client.OrasClient(insecure=True)\n\
         c.push(target={reference:?}, files=['hello.wasm:application/wasm'], \
         manifest_config='config.json:application/vnd.wasm.config.v0+json', disable_path_validation=True)",
        work.display().to_string()
    ))?;
    ok(&run(&dir, &["plugin", "add", &reference]))?;
    let out = run(&dir, &["dispatch", "x"]);
    assert_eq!(hello_lines(&text(&out.stdout)), HELLO_LIFECYCLE);
    Ok(())
}

fn published_python_hello_runs() -> Result<(), Failed> {
    let (dir, registry) = setup("python");
    let reference = format!("{}/demo/hello:0.1.0", registry.addr);
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let builder = precept_build::Builder::new();
    let out_dir = dir.join("built");
    precept_build::publish::publish(
        &workspace.join("example-plugins/python/hello"),
        &reference,
        &builder,
        &out_dir,
    )?;
    ok(&run(&dir, &["plugin", "add", &reference]))?;
    let out = run(&dir, &["dispatch", "x"]);
    ok(&out)?;
    assert_eq!(hello_lines(&text(&out.stdout)), HELLO_LIFECYCLE);
    Ok(())
}
