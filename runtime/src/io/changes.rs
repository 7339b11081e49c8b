//! Changes to files, as the operating system tells of them (inotify,
//! FSEvents, ReadDirectoryChangesW through `notify`): the directories of a
//! set of files are watched, and every notice in one of them wakes the
//! waiter, which looks at its files itself. Where notices cannot be had (a
//! limit on watches, a file system without them), a poll stands in.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};
use tokio::sync::Notify;

/// How often files are looked at when the operating system gives no
/// notices.
const POLL: Duration = Duration::from_millis(200);

/// How long notices are gathered after the first: a burst (a build writing
/// many files, or a plugin writing in a loop) wakes the waiter once, and
/// the files are looked at no more than 20 times a second.
const GATHER: Duration = Duration::from_millis(50);

/// Notices of changes in the directories of some files. However many come
/// (a plugin writing in a watched directory in a loop), they hold one
/// pending wake-up, never a queue.
pub(crate) struct Changes {
    notices: Option<(notify::RecommendedWatcher, Arc<Notify>)>,
}

impl Changes {
    /// Watches the directory of each of `files` (a file replaced by a
    /// rename is seen too).
    pub(crate) fn watch<'a>(files: impl IntoIterator<Item = &'a Path>) -> Changes {
        let notice = Arc::new(Notify::new());
        let noticed = notice.clone();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if event.is_ok() {
                noticed.notify_one();
            }
        });
        let watched = watcher.and_then(|mut watcher| {
            let mut dirs: Vec<PathBuf> = files.into_iter().map(directory_of).collect();
            dirs.sort();
            dirs.dedup();
            for dir in &dirs {
                watcher.watch(dir, RecursiveMode::NonRecursive)?;
            }
            Ok(watcher)
        });
        match watched {
            Ok(watcher) => Changes {
                notices: Some((watcher, notice)),
            },
            Err(error) => {
                tracing::warn!("no file notices ({error}); looking at the files every {POLL:?}");
                Changes { notices: None }
            }
        }
    }

    /// Waits for the next notice (all that came since the last wait count
    /// as one); without notices, for the next poll.
    pub(crate) async fn next(&mut self) {
        match &self.notices {
            Some((_, notice)) => {
                notice.notified().await;
                tokio::time::sleep(GATHER).await;
            }
            None => tokio::time::sleep(POLL).await,
        }
    }
}

/// The directory `file` is in, absolute.
fn directory_of(file: &Path) -> PathBuf {
    let file = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
