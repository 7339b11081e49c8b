//! Hashes the compile cache remembers by file identity. Every start hashes
//! each plugin's file (its digest finds its compiled code and is what a
//! lockfile pins) and checks the keyed tag of the compiled code it maps:
//! for a Python or JavaScript plugin that is 18 MiB and 50 MiB read and
//! hashed, milliseconds and tens of MiB of memory at every start. What
//! such a hash gave is remembered with the file's identity, and used
//! again while the identity is unchanged.
//!
//! A file's identity is its device, inode, length, modification time and
//! status change time. On Linux's local file systems the kernel sets the
//! change time at every write, truncation, rename or `utimes`, and no
//! process can set it: a file whose identity is unchanged has not been
//! written through the kernel since. A hash is remembered only when the
//! file's identity was the same before and after it was read, and its
//! change time is at least [`SETTLED`] old: a write in the same clock tick
//! as the last one could keep its change time.
//!
//! What this does not see: a change that does not go through the kernel
//! (a disk's own corruption), and writes to a page already dirtied through a
//! shared mapping of the file, which move the change time only once until
//! the page is written back. Neither makes other code run than a digest's:
//! a remembered digest only finds the code compiled for that digest, and
//! what is compiled is always hashed again first.
//!
//! Records live in the cache's `seen` directory, one per path and kind of
//! hash, each authenticated by the cache's key like the entries. Elsewhere
//! (other systems, FUSE, network and FAT file systems, where a change time
//! can be set or comes from another clock) every start hashes.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::io::files;

/// The directory of the records, in the cache's root.
pub(crate) const SEEN: &str = "seen";

/// How old a file's last change must be for a hash of it to be kept.
const SETTLED: Duration = Duration::from_secs(1);

/// What a file's remembered hash is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The BLAKE3 hash of a component file: its digest.
    Content,
    /// The keyed tag of one of the cache's entries.
    Tag,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Content => "content",
            Kind::Tag => "tag",
        }
    }
}

/// What identifies a file's content while it is unchanged: device, inode,
/// length, modification and change times (seconds, nanoseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Identity([i64; 7]);

impl Identity {
    /// The identity in `metadata`; `None` where the platform has none.
    pub(crate) fn of(metadata: &std::fs::Metadata) -> Option<Identity> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            // Device and inode numbers are kept bit for bit.
            Some(Identity([
                metadata.dev() as i64,
                metadata.ino() as i64,
                metadata.len() as i64,
                metadata.mtime(),
                metadata.mtime_nsec(),
                metadata.ctime(),
                metadata.ctime_nsec(),
            ]))
        }
        #[cfg(not(unix))]
        {
            let _ = metadata;
            None
        }
    }

    /// Whether the file was last changed at least [`SETTLED`] before `now`.
    fn settled(&self, now: SystemTime) -> bool {
        let [.., seconds, nanos] = self.0;
        let (Ok(seconds), Ok(nanos)) = (u64::try_from(seconds), u32::try_from(nanos)) else {
            return false;
        };
        let changed = SystemTime::UNIX_EPOCH + Duration::new(seconds, nanos);
        now.duration_since(changed).is_ok_and(|age| age >= SETTLED)
    }
}

/// A file's identity read before its hash, to compare with afterwards.
pub(crate) struct Before {
    identity: Identity,
    at: SystemTime,
}

impl Before {
    /// The identity of the open `file` as it is now; `None` when its file
    /// system does not keep change times as [`super::seen`] needs.
    pub(crate) fn of(file: &std::fs::File) -> Option<Before> {
        if !kernel_keeps_change_time(file) {
            return None;
        }
        let metadata = file.metadata().ok()?;
        Some(Before {
            identity: Identity::of(&metadata)?,
            at: SystemTime::now(),
        })
    }
}

/// Whether the open `file` is on one of Linux's local file systems, whose
/// change times only the kernel sets.
fn kernel_keeps_change_time(file: &std::fs::File) -> bool {
    #[cfg(target_os = "linux")]
    {
        // ext2/3/4, XFS, Btrfs, tmpfs, F2FS, overlayfs, ZFS.
        const LOCAL: [i64; 7] = [
            0xEF53,
            0x5846_5342,
            0x9123_683E,
            0x0102_1994,
            0xF2F5_2010,
            0x794C_7630,
            0x2FC1_2FC1,
        ];
        // `f_type`'s type differs between targets.
        #[allow(clippy::useless_conversion)]
        rustix::fs::fstatfs(file).is_ok_and(|fs| LOCAL.contains(&i64::from(fs.f_type)))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file;
        false
    }
}

/// One record: the hash of `kind` of the file at `path` while its identity
/// is `identity`, and the cache's keyed tag over all of it.
#[derive(Serialize, Deserialize)]
struct Record {
    path: PathBuf,
    identity: Identity,
    hash: String,
    tag: String,
}

/// The cache's records of hashes by file identity.
pub(crate) struct Seen {
    dir: PathBuf,
    key: [u8; blake3::KEY_LEN],
}

impl Seen {
    /// The records in `root`'s [`SEEN`] directory, authenticated by `key`.
    pub(crate) fn new(root: &Path, key: [u8; blake3::KEY_LEN]) -> Seen {
        Seen {
            dir: root.join(SEEN),
            key,
        }
    }

    /// The hash of `kind` remembered for the file at `path` when its
    /// identity is still `before`'s; `None` when there is none, it is for
    /// another identity, or the record is not one this cache wrote.
    pub(crate) fn recall(&self, kind: Kind, path: &Path, before: &Before) -> Option<blake3::Hash> {
        let (of, record, hash) = self.verified(&self.record_path(kind, path))?;
        (of == kind && record.path == path && record.identity == before.identity).then_some(hash)
    }

    /// The record at `at`, with its kind and hash, when this cache wrote it
    /// there.
    fn verified(&self, at: &Path) -> Option<(Kind, Record, blake3::Hash)> {
        let record: Record = serde_json::from_slice(&std::fs::read(at).ok()?).ok()?;
        let hash = blake3::Hash::from_hex(&record.hash).ok()?;
        let tag = blake3::Hash::from_hex(&record.tag).ok()?;
        let kind = [Kind::Content, Kind::Tag].into_iter().find(|&kind| {
            self.record_path(kind, &record.path) == at
                && tag == self.tag(kind, &record.path, &record.identity, &hash)
        })?;
        Some((kind, record, hash))
    }

    /// Remembers that the file at `path`, open as `file`, has the hash
    /// `hash` of `kind`, when its identity is still `before`'s and it was
    /// last changed long enough ago. Best effort: a record that cannot be
    /// written is hashed again next time.
    pub(crate) fn remember(
        &self,
        kind: Kind,
        path: &Path,
        file: &std::fs::File,
        before: &Before,
        hash: &blake3::Hash,
    ) {
        let after = file.metadata().ok().and_then(|m| Identity::of(&m));
        if after != Some(before.identity) || !before.identity.settled(before.at) {
            return;
        }
        let record = Record {
            path: path.to_path_buf(),
            identity: before.identity,
            hash: hash.to_hex().to_string(),
            tag: self
                .tag(kind, path, &before.identity, hash)
                .to_hex()
                .to_string(),
        };
        let written = serde_json::to_vec(&record)
            .map_err(std::io::Error::other)
            .and_then(|bytes| {
                files::create_dir(&self.dir)?;
                files::write_aside(&self.record_path(kind, path), &bytes)
            });
        if let Err(error) = written {
            tracing::debug!("cannot remember the hash of {}: {error}", path.display());
        }
    }

    /// Removes the records of files that changed or are gone since they
    /// were hashed, and every record that is not one this cache wrote.
    /// Records being written (partial files) are left to their writers.
    pub(crate) fn prune(&self) -> std::io::Result<()> {
        let records = match std::fs::read_dir(&self.dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            records => records?,
        };
        for record in records {
            let record = record?.path();
            let partial = record.extension().is_some();
            if !partial && !self.is_current(&record) {
                match std::fs::remove_file(&record) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Whether the record at `record` is one of this cache's, for a file
    /// still as it was hashed.
    fn is_current(&self, record: &Path) -> bool {
        // Only a path this cache recorded is looked at.
        self.verified(record).is_some_and(|(_, read, _)| {
            std::fs::metadata(&read.path).is_ok_and(|m| Identity::of(&m) == Some(read.identity))
        })
    }

    /// How many records there are (those being written left out).
    pub(crate) fn count(&self) -> usize {
        let Ok(records) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let records = records.filter_map(Result::ok);
        records
            .filter(|record| {
                std::path::Path::new(&record.file_name())
                    .extension()
                    .is_none()
            })
            .count()
    }

    /// Removes every record.
    pub(crate) fn clear(&self) -> std::io::Result<()> {
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            cleared => cleared,
        }
    }

    /// Where the record of `kind` for `path` is: named by a keyed hash of
    /// both, so that a path's bytes never make a file name.
    fn record_path(&self, kind: Kind, path: &Path) -> PathBuf {
        let mut hasher = blake3::Hasher::new_keyed(&self.key);
        hasher.update(b"seen-name\0");
        hasher.update(kind.name().as_bytes());
        hasher.update(&[0]);
        hasher.update(path.as_os_str().as_encoded_bytes());
        let name = hasher.finalize().to_hex();
        self.dir.join(&name[..32])
    }

    /// The keyed tag of a record: only this cache can make one.
    fn tag(
        &self,
        kind: Kind,
        path: &Path,
        identity: &Identity,
        hash: &blake3::Hash,
    ) -> blake3::Hash {
        let mut hasher = blake3::Hasher::new_keyed(&self.key);
        hasher.update(b"seen-record\0");
        hasher.update(kind.name().as_bytes());
        hasher.update(&[0]);
        let path = path.as_os_str().as_encoded_bytes();
        hasher.update(&(path.len() as u64).to_le_bytes());
        hasher.update(path);
        for field in identity.0 {
            hasher.update(&field.to_le_bytes());
        }
        hasher.update(hash.as_bytes());
        hasher.finalize()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A new, empty directory for the test `name`.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("precept-seen-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Files written now, each named as its content, and left until their
    /// change is settled.
    fn settled_files<const N: usize>(dir: &Path, contents: [&str; N]) -> [PathBuf; N] {
        let paths = contents.map(|content| {
            let path = dir.join(content);
            std::fs::write(&path, content).unwrap();
            path
        });
        std::thread::sleep(SETTLED + Duration::from_millis(50));
        paths
    }

    fn remember(seen: &Seen, kind: Kind, path: &Path) -> blake3::Hash {
        let file = std::fs::File::open(path).unwrap();
        let before = Before::of(&file).unwrap();
        let hash = blake3::hash(&std::fs::read(path).unwrap());
        seen.remember(kind, path, &file, &before, &hash);
        hash
    }

    fn recall(seen: &Seen, kind: Kind, path: &Path) -> Option<blake3::Hash> {
        let file = std::fs::File::open(path).unwrap();
        seen.recall(kind, path, &Before::of(&file).unwrap())
    }

    #[test]
    fn a_hash_is_recalled_while_its_file_is_unchanged_and_forgotten_at_a_write() {
        let dir = scratch("recalled");
        let seen = Seen::new(&dir, [1; blake3::KEY_LEN]);
        let [path] = settled_files(&dir, ["first"]);

        let hash = remember(&seen, Kind::Content, &path);
        assert_eq!(recall(&seen, Kind::Content, &path), Some(hash));
        assert_eq!(recall(&seen, Kind::Tag, &path), None, "per kind");

        // The same length and content, written again: its change time moves.
        std::fs::write(&path, b"first").unwrap();
        assert_eq!(recall(&seen, Kind::Content, &path), None);
        std::fs::write(&path, b"other").unwrap();
        assert_eq!(recall(&seen, Kind::Content, &path), None);
    }

    #[test]
    fn a_file_changed_less_than_the_settling_time_ago_is_not_remembered() {
        let dir = scratch("fresh");
        let seen = Seen::new(&dir, [1; blake3::KEY_LEN]);
        let path = dir.join("fresh.wasm");
        std::fs::write(&path, b"fresh").unwrap();

        remember(&seen, Kind::Content, &path);
        assert_eq!(recall(&seen, Kind::Content, &path), None);
        assert!(!dir.join(SEEN).exists());
    }

    #[test]
    fn a_record_of_another_key_or_altered_is_not_trusted() {
        let dir = scratch("trusted");
        let seen = Seen::new(&dir, [1; blake3::KEY_LEN]);
        let [path] = settled_files(&dir, ["content"]);
        remember(&seen, Kind::Content, &path);

        let other_key = Seen::new(&dir, [2; blake3::KEY_LEN]);
        assert_eq!(recall(&other_key, Kind::Content, &path), None);

        // Another hash written into this cache's record.
        let record_path = seen.record_path(Kind::Content, &path);
        let mut record: Record =
            serde_json::from_slice(&std::fs::read(&record_path).unwrap()).unwrap();
        record.hash = blake3::hash(b"something else").to_hex().to_string();
        std::fs::write(&record_path, serde_json::to_vec(&record).unwrap()).unwrap();
        assert_eq!(recall(&seen, Kind::Content, &path), None);
        seen.prune().unwrap();
        assert!(!record_path.exists(), "pruned");
    }

    #[test]
    fn pruning_drops_the_records_of_files_changed_or_gone() {
        let dir = scratch("pruned");
        let seen = Seen::new(&dir, [1; blake3::KEY_LEN]);
        let [kept, changed, gone] = settled_files(&dir, ["kept", "changed", "gone"]);
        for path in [&kept, &changed, &gone] {
            remember(&seen, Kind::Content, path);
        }
        std::fs::write(&changed, b"changed again").unwrap();
        std::fs::remove_file(&gone).unwrap();

        seen.prune().unwrap();
        assert_eq!(dir.join(SEEN).read_dir().unwrap().count(), 1);
        assert!(recall(&seen, Kind::Content, &kept).is_some());
        seen.clear().unwrap();
        assert!(recall(&seen, Kind::Content, &kept).is_none());
    }
}
