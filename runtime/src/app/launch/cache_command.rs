//! `cache [show|prune|clear]`: the compile cache. `show` lists what it
//! holds for each engine; `prune` removes what this build cannot use any
//! more — entries of other wasmtime versions or settings, Winch's code of a
//! component whose Cranelift code is there, files a process left half
//! written — and entries not used for [`UNUSED_FOR`] (e.g. the builds of a
//! plugin reloaded again and again with `--watch`), and the hashes
//! remembered of files changed or gone since; `clear` removes every entry
//! and remembered hash (the key stays).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use clap::{Arg, Command};

use crate::app::{CommandError, Context};
use crate::compile::cache::{CompileCache, ENTRY};
use crate::compile::engine::{Compiler, PluginEngine};
use crate::compile::seen::SEEN;

/// A half-written file older than this belongs to a process that ended.
const LEFT_BEHIND: Duration = Duration::from_secs(3600);

/// An entry not used for this long is pruned.
pub(crate) const UNUSED_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

pub(super) fn cache_command() -> Command {
    Command::new("cache")
        .about("Show, prune or clear the compile cache")
        .arg(
            Arg::new("action")
                .value_name("ACTION")
                .value_parser(["show", "prune", "clear"])
                .default_value("show")
                .help("show: what it holds; prune: drop what this build cannot use and what was not used for 30 days; clear: drop every entry"),
        )
}

/// One engine's directory of entries.
struct EngineDir {
    path: PathBuf,
    /// The compiler of this build whose entries it holds; `None`: another
    /// build's.
    compiler: Option<Compiler>,
    /// The components it holds, by digest.
    digests: Vec<String>,
    bytes: u64,
}

pub(super) async fn cache(ctx: Context, dir: Option<PathBuf>) -> Result<(), CommandError> {
    let action = ctx.matches.get_one::<String>("action").expect("defaulted");
    let Some(dir) = dir else {
        println!("no compile cache is used (--no-cache)");
        return Ok(());
    };
    let cache = CompileCache::open(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let dirs = engine_dirs(&cache)?;
    match action.as_str() {
        "clear" => {
            let (entries, bytes) = totals(&dirs);
            for engine in &dirs {
                std::fs::remove_dir_all(&engine.path)?;
            }
            cache.seen().clear()?;
            println!(
                "cleared {}: {}, {}",
                dir.display(),
                count(entries),
                mib(bytes)
            );
        }
        "prune" => {
            let (entries, bytes) = prune(&dirs)?;
            cache.seen().prune()?;
            println!(
                "pruned {}: {}, {}",
                dir.display(),
                count(entries),
                mib(bytes)
            );
        }
        _ => {
            let (entries, bytes) = totals(&dirs);
            println!("{}: {}, {}", dir.display(), count(entries), mib(bytes));
            for engine in &dirs {
                let what = engine
                    .compiler
                    .map_or("another build (prune removes it)", Compiler::name);
                let name = engine
                    .path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy();
                println!(
                    "  {name}  {:>12}  {:>10}  {what}",
                    count(engine.digests.len()),
                    mib(engine.bytes)
                );
            }
            let remembered = match cache.seen().count() {
                0 => None,
                1 => Some("1 record".to_string()),
                n => Some(format!("{n} records")),
            };
            if let Some(remembered) = remembered {
                println!(
                    "  {:<16}  {remembered:>12}  {:>10}  remembered hashes (prune drops stale ones)",
                    "seen", ""
                );
            }
        }
    }
    Ok(())
}

/// Every engine directory in the cache, with what it holds.
fn engine_dirs(cache: &CompileCache) -> std::io::Result<Vec<EngineDir>> {
    let mut ours = Vec::new();
    for compiler in Compiler::ALL {
        if let Ok(engine) = PluginEngine::shared(compiler) {
            ours.push((cache.engine_dir(&engine.engine), compiler));
        }
    }
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(cache.root())? {
        let entry = entry?;
        // A symbolic link is never followed: only the cache's own
        // directories are looked into and pruned.
        if !entry.file_type()?.is_dir() || entry.file_name() == SEEN {
            continue;
        }
        let path = entry.path();
        let compiler = ours.iter().find(|(dir, _)| *dir == path).map(|(_, n)| *n);
        let (mut digests, mut bytes) = (Vec::new(), 0);
        for file in std::fs::read_dir(&path)? {
            let file = file?;
            bytes += file.metadata().map_or(0, |m| m.len());
            let file = file.path();
            if file.extension().is_some_and(|e| e == ENTRY) {
                let digest = file.file_stem().unwrap_or_default().to_string_lossy();
                digests.push(digest.into_owned());
            }
        }
        digests.sort();
        dirs.push(EngineDir {
            path,
            compiler,
            digests,
            bytes,
        });
    }
    dirs.sort_by_key(|d| {
        (
            d.compiler.is_none(),
            d.compiler.map(Compiler::name),
            d.path.clone(),
        )
    });
    Ok(dirs)
}

/// Removes another build's directories, Winch's entries that Cranelift's
/// replace, entries unused for [`UNUSED_FOR`], and half-written files;
/// what was removed.
fn prune(dirs: &[EngineDir]) -> std::io::Result<(usize, u64)> {
    let (mut entries, mut bytes) = (0, 0);
    let cranelift: HashSet<&String> = dirs
        .iter()
        .filter(|d| d.compiler == Some(Compiler::Cranelift))
        .flat_map(|d| &d.digests)
        .collect();
    for engine in dirs {
        if engine.compiler.is_none() {
            std::fs::remove_dir_all(&engine.path)?;
            (entries, bytes) = (entries + engine.digests.len(), bytes + engine.bytes);
            continue;
        }
        // Decided before anything goes: an entry's tag says when it was used.
        let mut doomed = Vec::new();
        for file in std::fs::read_dir(&engine.path)? {
            let file = file?.path();
            let name = file.file_name().unwrap_or_default().to_string_lossy();
            let digest = name.split('.').next().unwrap_or_default().to_string();
            let replaced = engine.compiler == Some(Compiler::Winch) && cranelift.contains(&digest);
            let partial = name.ends_with(".partial");
            let tag = engine.path.join(format!("{digest}.tag"));
            let unused = !partial && older_than(&tag, UNUSED_FOR);
            if replaced || unused || (partial && older_than(&file, LEFT_BEHIND)) {
                doomed.push((file.clone(), name.ends_with(&format!(".{ENTRY}"))));
            }
        }
        for (file, entry) in doomed {
            bytes += std::fs::metadata(&file).map_or(0, |m| m.len());
            entries += usize::from(entry);
            std::fs::remove_file(&file)?;
        }
    }
    Ok((entries, bytes))
}

/// Whether `file` was last changed (for an entry's tag: the entry last
/// used) longer than `age` ago.
fn older_than(file: &Path, age: Duration) -> bool {
    crate::compile::cache::last_used(file).is_some_and(|at| {
        SystemTime::now()
            .duration_since(at)
            .is_ok_and(|since| since > age)
    })
}

fn totals(dirs: &[EngineDir]) -> (usize, u64) {
    dirs.iter()
        .fold((0, 0), |(n, b), d| (n + d.digests.len(), b + d.bytes))
}

fn count(entries: usize) -> String {
    match entries {
        1 => "1 entry".into(),
        n => format!("{n} entries"),
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}
