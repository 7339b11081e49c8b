//! Changes to files, as the operating system tells of them (inotify,
//! FSEvents, ReadDirectoryChangesW through `notify`): the directories of a
//! set of files are watched, and every notice in one of them wakes the
//! waiter, which looks at its files itself. Where notices cannot be had (a
//! limit on watches, a file system without them), a poll stands in.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// How often files are looked at when the operating system gives no
/// notices.
const POLL: Duration = Duration::from_millis(200);

/// Notices of changes in the directories of some files.
pub(crate) struct Changes {
    notices: Option<(notify::RecommendedWatcher, UnboundedReceiver<()>)>,
}

impl Changes {
    /// Watches the directory of each of `files` (a file replaced by a
    /// rename is seen too).
    pub(crate) fn watch<'a>(files: impl IntoIterator<Item = &'a Path>) -> Changes {
        let (sender, receiver) = unbounded_channel();
        let watcher = notify::recommended_watcher(move |notice: notify::Result<notify::Event>| {
            if notice.is_ok() {
                let _ = sender.send(());
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
                notices: Some((watcher, receiver)),
            },
            Err(error) => {
                tracing::warn!("no file notices ({error}); looking at the files every {POLL:?}");
                Changes { notices: None }
            }
        }
    }

    /// Waits for the next notice (several that came together count as
    /// one); without notices, for the next poll.
    pub(crate) async fn next(&mut self) {
        match &mut self.notices {
            Some((_, receiver)) => {
                if receiver.recv().await.is_none() {
                    std::future::pending::<()>().await;
                }
                while receiver.try_recv().is_ok() {}
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
