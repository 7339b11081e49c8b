//! `plugin`: the built-in command that installs plugins into the
//! application's plugin home (`add`, `update`, `install --locked`), lists
//! them and removes them. See [`install`](super::install) for the checks.

use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, ArgMatches, Command};

use super::commands::{Shared, loaded};
use super::install::{self, DEFAULT_MAX_MIB, Source};
use crate::app::{App, CommandError, Context};
use crate::io::text::clean;
use crate::model::error::Error;
use crate::trust::installed::{HomeLock, InstalledFile, RECORD, file_in};
use crate::trust::lock::LockFile;

impl App {
    /// Adds `plugin` for the plugin home `home`.
    pub(crate) fn plugin_command(&mut self, home: PathBuf) -> Result<&mut App, Error> {
        self.launch.describing.push("plugin");
        let shared = self.launch.snapshot.clone();
        let prog = self.prog_name().to_string();
        self.command(command(&prog), move |ctx: Context| {
            let (shared, home, prog) = (shared.clone(), home.clone(), prog.clone());
            async move { run(ctx, &shared, &home, &prog).await }
        })
    }
}

/// The command line of `plugin` and its commands.
fn command(prog: &str) -> Command {
    let source = Arg::new("source")
        .required(true)
        .value_name("SOURCE")
        .help("A component file, an https:// URL pinned as URL#sha256:HEX, or an OCI reference REGISTRY/REPOSITORY[:TAG|@DIGEST]");
    let max = Arg::new("max-mib")
        .long("max-mib")
        .value_name("MIB")
        .value_parser(clap::value_parser!(u64).range(1..=4096))
        .help(format!(
            "The most a plugin may weigh [default: {DEFAULT_MAX_MIB}]"
        ));
    Command::new("plugin")
        .about(format!("Install plugins for {prog}: each loads at start with what it was granted"))
        .subcommand_required(true)
        .subcommand(
            Command::new("add")
                .about("Check a plugin, show what it declares, grant it and install it")
                .arg(source)
                .arg(max.clone())
                .args(grant_args()),
        )
        .subcommand(Command::new("list").about("List the installed plugins: version, source, digest, grants"))
        .subcommand(
            Command::new("remove")
                .about("Remove an installed plugin (its data directory is kept)")
                .arg(Arg::new("name").required(true).help("The plugin"))
                .arg(
                    Arg::new("purge")
                        .long("purge")
                        .action(ArgAction::SetTrue)
                        .help("Remove its data directory too"),
                ),
        )
        .subcommand(
            Command::new("update")
                .about("Fetch the installed plugins' sources again; a new capability needs a new grant")
                .arg(Arg::new("name").help("Only this plugin"))
                .arg(max.clone())
                .args(grant_args()),
        )
        .subcommand(
            Command::new("install")
                .about("Install exactly the plugins a record lists, every digest checked")
                .arg(
                    Arg::new("locked")
                        .long("locked")
                        .required(true)
                        .action(ArgAction::SetTrue)
                        .help("Take the versions the record pins (the only way)"),
                )
                .arg(
                    Arg::new("record")
                        .value_name("FILE")
                        .value_parser(clap::value_parser!(PathBuf))
                        .help(format!("The record [default: the plugin home's {RECORD}]")),
                )
                .arg(
                    Arg::new("with-grants")
                        .long("with-grants")
                        .action(ArgAction::SetTrue)
                        .help("Grant what FILE records besides what the flags grant"),
                )
                .arg(max)
                .args(grant_args()),
        )
}

/// The grant flags of `add`, `update` and `install`, as the run's own;
/// their values are kept as given (an `--env VAR` grant names the
/// variable's value at each run, not now).
fn grant_args() -> [Arg; 4] {
    super::options::grant_args()
}

async fn run(ctx: Context, shared: &Shared, home: &Path, prog: &str) -> Result<(), CommandError> {
    let snapshot = loaded(shared)?;
    let cache = snapshot.cache_dir.clone();
    let data = snapshot.data_dir.clone();
    let (what, m) = ctx.matches.subcommand().expect("a command is required");
    let cap = m
        .try_get_one::<u64>("max-mib")
        .ok()
        .flatten()
        .copied()
        .unwrap_or(DEFAULT_MAX_MIB)
        << 20;
    match what {
        "list" => list(home),
        "remove" => remove(m, home, data.as_deref()).await,
        "add" => add(m, home, cache, cap, prog).await,
        "update" => update(m, home, cache, cap, prog).await,
        "install" => install_locked(m, home, cache, cap).await,
        _ => unreachable!("plugin has no command {what}"),
    }
}

/// Waits for the plugin home's lock, off the executor.
async fn lock(home: &Path) -> Result<HomeLock, CommandError> {
    let owned = home.to_path_buf();
    let taken = tokio::task::spawn_blocking(move || HomeLock::take(&owned)).await?;
    taken.map_err(|e| format!("cannot use the plugin home {}: {e}", home.display()).into())
}

fn list(home: &Path) -> Result<(), CommandError> {
    let record = InstalledFile::load(&home.join(RECORD))?;
    if record.plugins.is_empty() {
        eprintln!("no plugins are installed in {}", home.display());
    }
    let mut out = String::new();
    for plugin in &record.plugins {
        out.push_str(&clean(&plugin.summary(), 2000));
        out.push('\n');
    }
    crate::io::output::print(out.as_bytes());
    Ok(())
}

async fn remove(m: &ArgMatches, home: &Path, data: Option<&Path>) -> Result<(), CommandError> {
    let name = m.get_one::<String>("name").expect("required");
    let _lock = lock(home).await?;
    let path = home.join(RECORD);
    let mut record = InstalledFile::load(&path)?;
    let Some(plugin) = record.find(name).cloned() else {
        return Err(format!("{} is not installed", clean(name, 80)).into());
    };
    match std::fs::remove_file(file_in(home, &plugin.name)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    record.plugins.retain(|p| p.name != plugin.name);
    record.save(&path)?;
    eprintln!("removed {}", plugin.name);
    let kept = data.map(|root| root.join(plugin.name.to_ascii_lowercase()));
    if let Some(dir) = kept.filter(|dir| dir.is_dir()) {
        if m.get_flag("purge") {
            std::fs::remove_dir_all(&dir)?;
            eprintln!("removed its data directory {}", dir.display());
        } else {
            eprintln!(
                "its data directory {} is kept (`--purge` removes it)",
                dir.display()
            );
        }
    }
    Ok(())
}

/// The grant flags given for `name`, as the record keeps them; with
/// `only`, a flag for another plugin is an error (`add` installs one).
/// No message shows a grant past its variable's name: a value may be a
/// secret.
fn given(m: &ArgMatches, name: &str, only: bool) -> Result<Vec<String>, String> {
    let mut grants = Vec::new();
    for kind in ["dir", "dir-rw", "env", "net"] {
        let texts = m.try_get_many::<String>(kind).ok().flatten();
        for text in texts.into_iter().flatten() {
            let shown = || clean(&text.split('=').take(2).collect::<Vec<_>>().join("="), 200);
            let (plugin, rest) = super::options::split_plugin(text)
                .map_err(|_| format!("--{kind}: expected PLUGIN=..., got '{}'", shown()))?;
            if plugin.eq_ignore_ascii_case(name) {
                grants.push(format!("{kind}={rest}"));
            } else if only {
                return Err(format!("--{kind} {}…: the plugin is {name}", shown()));
            }
        }
    }
    Ok(grants)
}

async fn add(
    m: &ArgMatches,
    home: &Path,
    cache: Option<PathBuf>,
    cap: u64,
    prog: &str,
) -> Result<(), CommandError> {
    let text = m.get_one::<String>("source").expect("required");
    // A URL's query may carry a token: never shown.
    let shown = clean(&text[..text.find(['?', '#']).unwrap_or(text.len())], 300);
    let failed = |e: String| -> CommandError { format!("cannot add {shown}: {e}").into() };
    let source = Source::parse(text).map_err(failed)?;
    let _lock = lock(home).await?;
    let path = home.join(RECORD);
    let mut record = InstalledFile::load(&path).map_err(failed)?;
    let download = install::download(&source, home, cap)
        .await
        .map_err(failed)?;
    let checked = install::check(&download, &source, cache)
        .await
        .map_err(failed)?;
    if let Some(installed) = record.find(&checked.name) {
        return Err(failed(format!(
            "a plugin named {} is installed already, from {}: `{prog} plugin update {}`, or `{prog} plugin remove {}` first",
            installed.name,
            clean(&installed.source, 300),
            installed.name,
            installed.name
        )));
    }
    install::show(&checked, text, &download);
    let given = given(m, &checked.name, true).map_err(failed)?;
    let grants = install::grants(&checked, &[], &given, true).map_err(failed)?;
    let recorded = source.recorded(text);
    let installed = install::place(download, checked, &recorded, grants, home).map_err(failed)?;
    record.put(installed.clone());
    record.save(&path).map_err(|e| failed(e.to_string()))?;
    eprintln!("installed {}", clean(&installed.summary(), 2000));
    Ok(())
}

async fn update(
    m: &ArgMatches,
    home: &Path,
    cache: Option<PathBuf>,
    cap: u64,
    prog: &str,
) -> Result<(), CommandError> {
    let _lock = lock(home).await?;
    let path = home.join(RECORD);
    let mut record = InstalledFile::load(&path)?;
    let only = m.get_one::<String>("name");
    if let Some(name) = only
        && record.find(name).is_none()
    {
        return Err(format!("{} is not installed", clean(name, 80)).into());
    }
    let chosen: Vec<_> = record
        .plugins
        .iter()
        .filter(|p| only.is_none_or(|n| p.name.eq_ignore_ascii_case(n)))
        .cloned()
        .collect();
    let mut failures = 0;
    for old in chosen {
        let name = old.name.clone();
        let failed =
            |e: String| format!("cannot update {name}: {e}; the installed version is kept");
        let updated = async {
            let source = Source::parse(&old.source)?;
            let download = install::download(&source, home, cap).await?;
            if download.digest == old.digest {
                eprintln!("{name} is up to date ({})", old.digest);
                return Ok(None);
            }
            let checked = install::check(&download, &source, cache.clone()).await?;
            if !checked.name.eq_ignore_ascii_case(&name) {
                return Err(format!("the new version is named {}", checked.name));
            }
            install::show(&checked, &old.source, &download);
            let file = file_in(home, &name);
            let before = LockFile {
                plugins: vec![old.locked(&file)],
            };
            let declared = checked.manifest.capabilities.describe();
            let mut now = old.locked(&file);
            (now.blake3, now.world, now.declares) =
                (checked.blake3.clone(), checked.world.clone(), declared);
            now.identity = checked.manifest.identity.clone();
            if let Err(changes) = before.check(&now) {
                eprintln!("{name}: {}", clean(&changes, 2000));
            }
            let given = given(m, &name, false)?;
            let grants = install::grants(&checked, &old.grants, &given, true)
                .map_err(|e| format!("{e} (`{prog} plugin update {name} --FLAG {name}=...`)"))?;
            install::place(download, checked, &old.source, grants, home).map(Some)
        };
        match updated.await {
            Ok(Some(installed)) => {
                eprintln!("updated {}", clean(&installed.summary(), 2000));
                record.put(installed);
                record.save(&path)?;
            }
            Ok(None) => {}
            Err(e) => {
                eprintln!("error: {}", failed(e));
                failures += 1;
            }
        }
    }
    if failures > 0 {
        return Err(format!("{failures} plugin(s) not updated").into());
    }
    Ok(())
}

async fn install_locked(
    m: &ArgMatches,
    home: &Path,
    cache: Option<PathBuf>,
    cap: u64,
) -> Result<(), CommandError> {
    let own = home.join(RECORD);
    let from = m
        .get_one::<PathBuf>("record")
        .cloned()
        .unwrap_or_else(|| own.clone());
    let wanted = InstalledFile::load(&from)?;
    // Another's record may name any grant: those are taken only when asked.
    let own_record = from == own || m.get_flag("with-grants");
    let _lock = lock(home).await?;
    let mut record = InstalledFile::load(&own)?;
    let mut failures = 0;
    for want in &wanted.plugins {
        let name = clean(&want.name, 80);
        if record.find(&want.name) == Some(want) && file_in(home, &want.name).is_file() {
            eprintln!("{name} is installed ({})", clean(&want.digest, 80));
            continue;
        }
        let installed = async {
            crate::plugin::usable_name(&want.name)?;
            let source = Source::parse(&want.source)?.pinned(&want.digest);
            let download = install::download(&source, home, cap).await?;
            if download.file_digest != want.file_digest {
                return Err(format!(
                    "its bytes are {}, not {}",
                    download.file_digest,
                    clean(&want.file_digest, 80)
                ));
            }
            let checked = install::check(&download, &source, cache.clone()).await?;
            if checked.name != want.name || checked.blake3 != want.blake3 {
                return Err(format!(
                    "it is not the plugin recorded (named {}, blake3 {})",
                    checked.name, checked.blake3
                ));
            }
            install::show(&checked, &want.source, &download);
            let recorded: &[String] = if own_record { &want.grants } else { &[] };
            let given = given(m, &want.name, false)?;
            let grants = install::grants(&checked, recorded, &given, !own_record)?;
            install::place(download, checked, &want.source, grants, home)
        };
        match installed.await {
            Ok(installed) => {
                eprintln!("installed {}", clean(&installed.summary(), 2000));
                record.put(installed);
                record.save(&own)?;
            }
            Err(e) => {
                eprintln!("error: cannot install {name}: {e}");
                failures += 1;
            }
        }
    }
    if failures > 0 {
        return Err(format!(
            "{failures} of {} plugin(s) not installed",
            wanted.plugins.len()
        )
        .into());
    }
    Ok(())
}
