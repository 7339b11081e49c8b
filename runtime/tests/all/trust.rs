//! Trusting a third-party plugin: who it says it is (from its metadata),
//! what it declares against what the user grants, the lockfile, and
//! plugins built for `precept:plugin@0.1.0` beside those built for 0.2.0.

use std::process::Output;

use precept::App;

use crate::common::{precept_run_in, scratch, text};

/// The lines of standard error that report errors.
fn errors(output: &Output) -> Vec<String> {
    text(&output.stderr)
        .lines()
        .filter(|line| line.starts_with("error: "))
        .map(str::to_string)
        .collect()
}

const JOURNAL: &str = precept_tests::JOURNAL;

#[test]
fn identity_and_declarations_come_from_the_crate_and_are_shown_by_inspect() {
    let dir = scratch("trust-inspect");
    let output = precept_run_in(&dir, &["inspect", "--json", JOURNAL]);
    assert!(output.status.success(), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // As in example-plugins/rust/journal/Cargo.toml.
    assert_eq!(report["name"], "journal");
    assert_eq!(report["world"], "precept:plugin@0.2.0");
    let identity = &report["identity"];
    assert_eq!(identity["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        identity["description"],
        "Keeps a journal in a directory the user grants; tags entries when granted JOURNAL_TAG"
    );
    assert_eq!(identity["authors"], "The precept authors");
    assert_eq!(identity["licenses"], "Apache-2.0 OR MIT");
    assert_eq!(identity["homepage"], "https://example.com/precept/journal");
    assert_eq!(identity["source"], "https://example.com/precept");
    assert_eq!(
        report["declares"],
        serde_json::json!([
            "directory /journal (read-write, required): where the journal is kept",
            "environment variable JOURNAL_TAG (optional): a tag put on every new entry"
        ])
    );
    let digest = report["blake3"].as_str().unwrap();
    let bytes = std::fs::read(JOURNAL).unwrap();
    assert_eq!(digest, blake3::hash(&bytes).to_hex().as_str());

    let human = precept_run_in(&dir, &["inspect", JOURNAL]);
    let human = text(&human.stdout);
    assert!(human.contains("version       0.1.0"), "{human}");
    assert!(
        human.contains("declares      directory /journal"),
        "{human}"
    );
}

#[test]
fn metadata_written_by_wasm_tools_names_the_plugin() {
    let dir = scratch("metadata");
    let mut metadata = wasm_metadata::AddMetadata::default();
    metadata.name = wasm_metadata::AddMetadataField::Set("greeter".into());
    metadata.version = wasm_metadata::AddMetadataField::Set(wasm_metadata::Version::new("2.5.0"));
    metadata.authors = wasm_metadata::AddMetadataField::Set(wasm_metadata::Authors::new("Ann"));
    let bytes = metadata
        .to_wasm(&std::fs::read(precept_tests::HELLO).unwrap())
        .unwrap();
    let file = dir.join("hello-with-metadata.wasm");
    std::fs::write(&file, bytes).unwrap();
    let output = precept_run_in(&dir, &["inspect", "--json", file.to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    assert!(text(&output.stderr).contains("hello: setup"), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // The component's own sections come before the SDK's (from Cargo.toml).
    assert_eq!(report["name"], "greeter");
    assert_eq!(report["identity"]["version"], "2.5.0");
    assert_eq!(report["identity"]["authors"], "Ann");
    assert_eq!(
        report["identity"]["description"],
        "Prints a line for every CLI lifecycle event"
    );

    // Loaded under its name; the same name twice is refused with one line.
    let copy = dir.join("copy.wasm");
    std::fs::copy(&file, &copy).unwrap();
    let output = precept_run_in(
        &dir,
        &[
            "--plugin",
            file.to_str().unwrap(),
            "--plugin",
            copy.to_str().unwrap(),
            "dispatch",
            "x",
        ],
    );
    assert_eq!(
        errors(&output),
        [format!(
            "error: plugin 'greeter' ({}): a plugin with this name is already loaded",
            copy.display()
        )]
    );
    assert!(text(&output.stdout).contains("hello: setup"), "{output:?}");
}

#[test]
fn a_required_capability_not_granted_names_the_grant_to_add() {
    let dir = scratch("required");
    let output = precept_run_in(&dir, &["--plugin", JOURNAL, "dispatch", "x"]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert_eq!(
        errors(&output),
        [format!(
            "error: plugin 'journal' ({JOURNAL}) needs what it was not granted: directory /journal \
             (read-write: where the journal is kept); to grant it: [plugin.journal] dirs = \
             [{{ host = \"HOST-DIR\", guest = \"/journal\", writable = true }}] or \
             --dir-rw journal=HOST-DIR::/journal"
        )]
    );

    // The printed flag, with a directory, grants it.
    std::fs::create_dir_all(dir.join("j")).unwrap();
    let grant = "journal=j::/journal";
    let output = precept_run_in(
        &dir,
        &[
            "--plugin", JOURNAL, "--dir-rw", grant, "journal", "write", "hi",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    // JOURNAL_TAG is optional: absent, the plugin asks and goes on.
    assert!(
        text(&output.stdout).contains("journal: wrote 'hi' (no tag granted)"),
        "{output:?}"
    );

    // Granted, the plugin sees it in its `granted` answer and uses it.
    let output = precept_run_in(
        &dir,
        &[
            "--plugin",
            JOURNAL,
            "--dir-rw",
            grant,
            "--env",
            "journal=JOURNAL_TAG=work",
            "journal",
            "write",
            "again",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        std::fs::read_to_string(dir.join("j/journal.txt")).unwrap(),
        "hi\n[work] again\n"
    );
}

#[test]
fn a_grant_the_plugin_does_not_declare_is_refused() {
    let dir = scratch("undeclared");
    std::fs::create_dir_all(dir.join("j")).unwrap();
    let cases = [
        (["--env", "journal=HOME=/root"], "environment variable HOME"),
        (["--dir", "journal=j::/etc"], "directory /etc"),
        (
            ["--net", "journal=example.com:443"],
            "network host example.com:443",
        ),
    ];
    for (grant, what) in cases {
        let mut args = vec!["--plugin", JOURNAL, "--dir-rw", "journal=j::/journal"];
        args.extend(grant);
        args.extend(["dispatch", "x"]);
        let output = precept_run_in(&dir, &args);
        assert_eq!(output.status.code(), Some(3), "{output:?}");
        assert_eq!(
            errors(&output),
            [format!(
                "error: plugin 'journal' ({JOURNAL}) was granted {what}, which it does not declare; remove that grant"
            )]
        );
    }
    // Read access where read-write is required is not enough.
    let read_only = [
        "--plugin",
        JOURNAL,
        "--dir",
        "journal=j::/journal",
        "dispatch",
        "x",
    ];
    let output = precept_run_in(&dir, &read_only);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert!(
        errors(&output)[0]
            .contains("needs what it was not granted: directory /journal (read-write"),
        "{output:?}"
    );
}

#[test]
fn a_plugin_changed_after_lock_is_refused_until_accepted() {
    let dir = scratch("lock");
    std::fs::create_dir_all(dir.join("j")).unwrap();
    let plugin = dir.join("journal.wasm");
    std::fs::copy(JOURNAL, &plugin).unwrap();
    std::fs::write(
        dir.join("journal.toml"),
        "plugins = [\"journal.wasm\"]\n[plugin.journal]\ndirs = [{ host = \"j\", guest = \"/journal\", writable = true }]\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["-c", "journal.toml"];
        all.extend(args);
        precept_run_in(&dir, &all)
    };

    // Without a lockfile nothing is checked; `lock` writes one.
    assert!(run(&["journal", "write", "one"]).status.success());
    let locked = run(&["lock"]);
    assert!(locked.status.success(), "{locked:?}");
    let lockfile = dir.join("journal.lock");
    assert!(
        text(&locked.stderr).contains(&format!("locked 1 plugin(s) in {}", lockfile.display()))
    );
    // What was accepted is said, a line per plugin.
    assert!(
        text(&locked.stderr).contains("\n  journal 0.1.0 (blake3 "),
        "{locked:?}"
    );
    assert!(
        text(&locked.stderr).contains("): granted directory /journal (read-write)\n"),
        "{locked:?}"
    );
    let recorded = std::fs::read_to_string(&lockfile).unwrap();
    let digest = blake3::hash(&std::fs::read(&plugin).unwrap())
        .to_hex()
        .to_string();
    assert!(recorded.contains(&digest), "{recorded}");
    assert!(
        recorded.contains("directory /journal (read-write)"),
        "{recorded}"
    );
    assert!(run(&["journal", "write", "two"]).status.success());

    // The file is replaced by another build: refused, with one line.
    precept_tests::copy_named(JOURNAL, "journal", &dir);
    let refused = run(&["journal", "write", "three"]);
    assert!(!refused.status.success(), "{refused:?}");
    assert_eq!(
        errors(&refused)[0],
        format!(
            "error: plugin 'journal' (journal.wasm) is not as {} accepted it: its file changed; \
             accept it with `precept-run lock`",
            lockfile.display()
        )
    );

    // Accepted again, it runs.
    assert!(run(&["lock"]).status.success());
    assert!(run(&["journal", "write", "four"]).status.success());

    // A grant added since is a change too; --update-lock accepts it and runs.
    let config = std::fs::read_to_string(dir.join("journal.toml")).unwrap();
    std::fs::write(
        dir.join("journal.toml"),
        config + "env = { JOURNAL_TAG = \"t\" }\n",
    )
    .unwrap();
    let refused = run(&["journal", "write", "five"]);
    assert!(
        errors(&refused)[0].contains("it is now granted environment variable JOURNAL_TAG"),
        "{refused:?}"
    );
    let updated = run(&["--update-lock", "journal", "write", "six"]);
    assert!(updated.status.success(), "{updated:?}");
    assert!(run(&["journal", "write", "seven"]).status.success());
    assert_eq!(
        std::fs::read_to_string(dir.join("j/journal.txt")).unwrap(),
        "one\ntwo\nfour\n[t] six\n[t] seven\n"
    );

    // A plugin the lockfile does not know is refused.
    let other = run(&["--plugin", precept_tests::HELLO, "journal", "read"]);
    assert!(
        errors(&other)[0].contains("plugin 'hello'")
            && errors(&other)[0].contains(": it is not in it;"),
        "{other:?}"
    );
}

#[test]
fn a_plugin_built_for_0_1_0_is_locked_with_its_grants() {
    // A 0.1.0 plugin declares nothing and is given its grants as they are:
    // the lockfile pins them like any other plugin's.
    let dir = scratch("lock-v0-1");
    std::fs::create_dir_all(dir.join("home-like")).unwrap();
    std::fs::copy(precept_tests::HELLO_V0_1, dir.join("hello.wasm")).unwrap();
    std::fs::write(dir.join("app.toml"), "plugins = [\"hello.wasm\"]\n").unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["-c", "app.toml"];
        all.extend(args);
        precept_run_in(&dir, &all)
    };
    assert!(run(&["lock"]).status.success());
    assert!(run(&["dispatch", "noop"]).status.success());
    let name = text(&run(&["inspect", "--json", "hello.wasm"]).stdout);
    let name: serde_json::Value = serde_json::from_str(&name).unwrap();
    let grant = format!("{}=home-like::/home", name["name"].as_str().unwrap());
    let widened = run(&["--dir-rw", &grant, "dispatch", "noop"]);
    assert!(!widened.status.success(), "{widened:?}");
    assert!(
        errors(&widened)[0].contains("it is now granted directory /home (read-write)"),
        "{widened:?}"
    );
}

#[tokio::test]
async fn an_application_can_load_one_component_under_several_names() {
    let mut app = App::new("twice", "1.0.0").unwrap();
    let options = precept::PluginOptions::default();
    app.load_plugin(precept_tests::HELLO).await.unwrap();
    let error = app.load_plugin(precept_tests::HELLO).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("a plugin with this name is already loaded"),
        "{error}"
    );
    let again = app
        .load_plugin_as(precept_tests::HELLO, "hello-again", &options)
        .await
        .unwrap();
    assert_eq!(again.name(), "hello-again");
    assert_eq!(again.identity().name.as_deref(), Some("hello"));
    let error = app
        .load_plugin_as(precept_tests::HELLO, "two words", &options)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("the name given 'two words' is not usable"),
        "{error}"
    );
    assert_eq!(app.plugins().len(), 2);
}

#[tokio::test]
async fn plugins_built_for_0_1_0_load_beside_those_built_for_0_2_0() {
    let mut app = App::new("both", "1.0.0").unwrap();
    let old = app.load_plugin(precept_tests::HELLO_V0_1).await.unwrap();
    let new = app.load_plugin(precept_tests::HELLO).await.unwrap();
    assert_eq!(
        (old.world_version(), new.world_version()),
        ("0.1.0", "0.2.0")
    );
    // The 0.1.0 plugin has no manifest: its name is its file stem.
    assert_eq!((old.name(), new.name()), ("hello_v0_1", "hello"));
    assert!(old.granted().is_empty() && old.declared().is_empty());
}

#[test]
fn plugins_of_both_versions_see_the_same_lifecycle() {
    let dir = scratch("versions");
    let output = precept_run_in(
        &dir,
        &[
            "--plugin",
            precept_tests::HELLO_V0_1,
            "--plugin",
            precept_tests::HELLO,
            "dispatch",
            "nothing",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    // Each event reaches the 0.1.0 plugin, then the 0.2.0 one.
    for event in [
        "setup",
        "before_cli_start",
        "cli_parsed",
        "cli_started",
        "cli_stopped",
    ] {
        let line = format!("hello: {event}");
        let count = lines.iter().filter(|l| **l == line).count();
        assert_eq!(count, 2, "{event}: {stdout}");
    }
}
