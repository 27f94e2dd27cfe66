//! Files okscript reads and replaces: the one place that opens them. Reads refuse anything but
//! a regular file before opening it (a FIFO would block, a device would be replaced); writes go
//! through symlinks (a dangling one gets its target created), refuse read-only targets, and land
//! atomically: a uniquely named temp file in the same folder, created with O_EXCL and the final
//! mode, written, fsynced, renamed over the target, then the folder fsynced. Temp files that a
//! killed okscript left behind are removed by the next write. Nothing here knows what the
//! files hold.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How old a temp file of ours must be before it is removed even though its PID is alive
/// (the PID may have been reused by another process).
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// Symlinks followed before giving up, as the kernel's limit.
const MAX_LINKS: usize = 40;

/// A file operation that failed; every variant names the path, and none wrote anything.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// The OS refused or failed an operation.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What okscript was doing ("reading", "writing", ...).
        what: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The path is a FIFO, device, socket or folder, which okscript never opens or replaces.
    #[error("{} is a {kind}, not a regular file", path.display())]
    NotRegular {
        /// The path (after following symlinks).
        path: PathBuf,
        /// What it is.
        kind: &'static str,
    },
    /// The file has no write permission bit: someone made it read-only on purpose.
    #[error("{} is read-only (mode {mode:04o})", path.display())]
    ReadOnly {
        /// The file (after following symlinks).
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Symlinks that loop or chain too deep.
    #[error("{}: too many levels of symbolic links", path.display())]
    LinkLoop {
        /// The path given.
        path: PathBuf,
    },
    /// The folder that should hold a new file does not exist.
    #[error("cannot create {}: its folder {} does not exist", path.display(), folder.display())]
    NoFolder {
        /// The file.
        path: PathBuf,
        /// The missing folder.
        folder: PathBuf,
    },
}

impl FsError {
    /// Advice to print after the error.
    pub fn hint(&self) -> Option<String> {
        match self {
            FsError::NotRegular { .. } => Some(
                "point okscript at a regular file (a symlink to one is fine); it never reads or replaces FIFOs, devices or folders".into(),
            ),
            FsError::ReadOnly { path, .. } => Some(format!(
                "okscript does not replace a read-only file; if it should change, `chmod u+w {}` and run again",
                path.display()
            )),
            FsError::LinkLoop { .. } => Some("fix the symbolic links (`ls -l` shows where each points)".into()),
            FsError::NoFolder { folder, .. } => Some(format!(
                "create the folder first (`mkdir -p {}`), or fix the path",
                folder.display()
            )),
            FsError::Io { source, .. } if source.kind() == ErrorKind::PermissionDenied => {
                Some("check the file's and its folder's permissions".into())
            }
            FsError::Io { .. } => None,
        }
    }
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> FsError {
    let path = path.to_path_buf();
    move |source| FsError::Io { what, path, source }
}

/// The file a chain of symlinks ends at, which may not exist yet (a dangling link); `path`
/// itself when it is no link.
pub fn resolve(path: &Path) -> Result<PathBuf, FsError> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let next = fs::read_link(&p).map_err(io("following the link", &p))?;
                p = match p.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(FsError::LinkLoop {
        path: path.to_path_buf(),
    })
}

/// The folder holding `path` (`.` for a bare name).
pub fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn kind(t: fs::FileType) -> Option<&'static str> {
    Some(if t.is_file() {
        return None;
    } else if t.is_fifo() {
        "FIFO (named pipe)"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_socket() {
        "socket"
    } else if t.is_dir() {
        "folder"
    } else {
        "special file"
    })
}

/// What is at `real` (symlinks already resolved): `None` when nothing is, its metadata when
/// it is a regular file, an error for anything else.
fn regular(real: &Path) -> Result<Option<fs::Metadata>, FsError> {
    match fs::symlink_metadata(real) {
        Ok(m) => match kind(m.file_type()) {
            None => Ok(Some(m)),
            Some(kind) => Err(FsError::NotRegular {
                path: real.to_path_buf(),
                kind,
            }),
        },
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("reading", real)(e)),
    }
}

/// The bytes of the regular file at `path` (through symlinks), or `None` when it does not
/// exist (a dangling link included). FIFOs, devices and folders are refused without opening.
pub fn read(path: &Path) -> Result<Option<Vec<u8>>, FsError> {
    let real = resolve(path)?;
    if regular(&real)?.is_none() {
        return Ok(None);
    }
    match fs::read(&real) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("reading", &real)(e)),
    }
}

/// How [`write`] treats a missing file and its folder.
#[derive(Debug, Clone, Copy)]
pub struct NewFile {
    /// The mode of a file that does not exist yet: `None` for 0666 less the umask (like an
    /// editor), `Some` for exactly that (private files: 0600).
    pub mode: Option<u32>,
    /// Create a missing folder (mode 0700) instead of failing with [`FsError::NoFolder`].
    pub create_folder: bool,
}

impl NewFile {
    /// A private file (0600) in a private folder created when missing (0700): credentials,
    /// caches, kubeconfigs.
    pub const PRIVATE: NewFile = NewFile {
        mode: Some(0o600),
        create_folder: true,
    };
    /// A file like an editor makes (0666 less the umask), in a folder that must exist.
    pub const PLAIN: NewFile = NewFile {
        mode: None,
        create_folder: false,
    };
}

/// Makes `dir` (and its parents) with mode 0700 when missing.
pub fn create_private_folder(dir: &Path) -> Result<(), FsError> {
    if dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io("creating the folder", dir))
}

/// Replaces the file at `path` with `bytes` atomically; see the module docs. An existing file
/// keeps its mode; a symlink is kept and the file it names replaced (or created). Returns the
/// file really written.
pub fn write(path: &Path, bytes: &[u8], new: NewFile) -> Result<PathBuf, FsError> {
    let staged = Staged::create(path, new)?;
    let filled = fill(&staged.file, bytes, &staged.tmp);
    staged.finish(filled)
}

/// [`write`], running `meanwhile` on this thread while another puts the bytes on disk (the
/// write and its fsync, the slow part): the file is replaced only when `meanwhile` succeeds;
/// when it fails, the temp file is removed, nothing was replaced, and its error is returned.
/// For a check of the bytes that need not delay their trip to the disk.
pub fn write_while<T, E: From<FsError>>(
    path: &Path,
    bytes: &[u8],
    new: NewFile,
    meanwhile: impl FnOnce() -> Result<T, E>,
) -> Result<(PathBuf, T), E> {
    let staged = Staged::create(path, new)?;
    let (filled, value) = std::thread::scope(|s| {
        let filled = s.spawn(|| fill(&staged.file, bytes, &staged.tmp));
        let value = meanwhile();
        let filled = filled
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (filled, value)
    });
    match value {
        Ok(value) => Ok((staged.finish(filled)?, value)),
        Err(e) => {
            staged.discard();
            Err(e)
        }
    }
}

/// A temp file next to the file it will replace, created with the final mode.
struct Staged {
    real: PathBuf,
    dir: PathBuf,
    tmp: PathBuf,
    file: File,
}

impl Staged {
    fn create(path: &Path, new: NewFile) -> Result<Staged, FsError> {
        let real = resolve(path)?;
        let dir = folder_of(&real);
        let existing = regular(&real)?;
        if let Some(m) = &existing {
            let mode = m.permissions().mode() & 0o7777;
            if mode & 0o222 == 0 {
                return Err(FsError::ReadOnly { path: real, mode });
            }
        }
        if !dir.is_dir() {
            if new.create_folder {
                create_private_folder(&dir)?;
            } else {
                return Err(FsError::NoFolder {
                    path: real.clone(),
                    folder: dir,
                });
            }
        }
        remove_stale_temps(&real);
        let (mode, exact) = match (&existing, new.mode) {
            (Some(m), _) => (m.permissions().mode() & 0o7777, true),
            (None, Some(mode)) => (mode, true),
            (None, None) => (0o666, false),
        };
        let (tmp, file) = create_temp(&real, mode)?;
        let staged = Staged {
            real,
            dir,
            tmp,
            file,
        };
        if exact {
            // The umask may have narrowed the mode at creation; set it before any byte lands.
            if let Err(e) = staged
                .file
                .set_permissions(fs::Permissions::from_mode(mode))
            {
                let error = io("setting the mode of", &staged.tmp)(e);
                staged.discard();
                return Err(error);
            }
        }
        Ok(staged)
    }

    /// Renames the temp file over the target once `filled` (its write and fsync) succeeded.
    fn finish(self, filled: Result<(), FsError>) -> Result<PathBuf, FsError> {
        let result = filled.and_then(|()| {
            // The target may have become something else since it was checked.
            regular(&self.real)?;
            fs::rename(&self.tmp, &self.real).map_err(io("replacing", &self.real))?;
            sync_folder(&self.dir);
            Ok(())
        });
        match result {
            Ok(()) => Ok(self.real),
            Err(e) => {
                self.discard();
                Err(e)
            }
        }
    }

    /// Removes the temp file: nothing is replaced.
    fn discard(self) {
        drop(self.file);
        let _ = fs::remove_file(&self.tmp);
    }
}

/// Writes `bytes` to the new temp file `tmp` and waits until they are on disk.
fn fill(mut file: &File, bytes: &[u8], tmp: &Path) -> Result<(), FsError> {
    file.write_all(bytes).map_err(io("writing", tmp))?;
    file.sync_all().map_err(io("writing", tmp))
}

/// Creates a new private file (0600) at `path` holding `bytes`: never through a symlink, never
/// over an existing file (O_EXCL), fsynced. For backups, which must not overwrite anything.
pub fn create_new_private(path: &Path, bytes: &[u8]) -> Result<(), FsError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io("creating", path))?;
    let result = f
        .write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(io("writing", path));
    if result.is_err() {
        let _ = fs::remove_file(path);
    } else {
        sync_folder(&folder_of(path));
    }
    result
}

fn sync_folder(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The prefix of our temp files for `real`: `.NAME.okscript-`.
fn temp_prefix(real: &Path) -> String {
    let name = real
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    format!(".{name}.okscript-")
}

/// A random 64-bit value, from std's per-process random hash keys, the time and a counter.
fn random() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    if let Ok(d) = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    h.finish()
}

/// Creates `.NAME.okscript-PID-RANDOM.tmp` next to `real` with O_EXCL and `mode`.
fn create_temp(real: &Path, mode: u32) -> Result<(PathBuf, File), FsError> {
    let dir = folder_of(real);
    let prefix = temp_prefix(real);
    let mut last = None;
    for _ in 0..16 {
        let tmp = dir.join(format!(
            "{prefix}{}-{:016x}.tmp",
            std::process::id(),
            random()
        ));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(io("creating a temporary file in", &dir)(e)),
        }
    }
    Err(io("creating a temporary file in", &dir)(
        last.unwrap_or_else(|| std::io::Error::other("no free temporary name")),
    ))
}

/// The PID in one of our temp file names, current (`.NAME.okscript-PID-HEX.tmp`) or from
/// older releases (`.NAME.okscript-PID-N.tmp`, `.NAME.PID.okscript-tmp`).
fn temp_pid(file_name: &str, real_name: &str) -> Option<u32> {
    let rest = file_name.strip_prefix('.')?.strip_prefix(real_name)?;
    if let Some(body) = rest
        .strip_prefix(".okscript-")
        .and_then(|r| r.strip_suffix(".tmp"))
    {
        let (pid, tail) = body.split_once('-')?;
        if tail.is_empty() || !tail.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        return pid.parse().ok();
    }
    rest.strip_prefix('.')?
        .strip_suffix(".okscript-tmp")?
        .parse()
        .ok()
}

fn pid_alive(pid: u32) -> bool {
    // Our own PID's temp files are from an earlier process that had it: this one removes
    // stale temps before it makes its own.
    if pid == std::process::id() {
        return false;
    }
    // Without /proc, age alone decides.
    !Path::new("/proc/self").exists() || Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes temp files of ours for `real` that a killed okscript left behind: their process
/// is gone, or they are older than an hour. Best effort; failures are ignored.
pub fn remove_stale_temps(real: &Path) {
    let Some(real_name) = real.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    let Ok(entries) = fs::read_dir(folder_of(real)) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| temp_pid(n, real_name)) else {
            continue;
        };
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.file_type().is_file() {
            continue;
        }
        let old = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age > STALE_AFTER);
        if old || !pid_alive(pid) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Holds a folder's advisory lock until dropped, so okscript processes writing files in it
/// take turns (other programs do not take it).
#[derive(Debug)]
pub struct FolderLock(File);

impl FolderLock {
    /// Waits for and takes the lock of `folder`.
    pub fn take(folder: &Path) -> Result<FolderLock, FsError> {
        let f = File::open(folder).map_err(io("locking the folder", folder))?;
        f.lock().map_err(io("locking the folder", folder))?;
        Ok(FolderLock(f))
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_of_ours_are_recognised_and_others_are_not() {
        assert_eq!(
            temp_pid(".a.yaml.okscript-42-00ff00ff00ff00ff.tmp", "a.yaml"),
            Some(42)
        );
        assert_eq!(temp_pid(".a.yaml.okscript-42-3.tmp", "a.yaml"), Some(42));
        assert_eq!(temp_pid(".a.yaml.42.okscript-tmp", "a.yaml"), Some(42));
        assert_eq!(temp_pid(".b.yaml.42.okscript-tmp", "a.yaml"), None);
        assert_eq!(temp_pid(".a.yaml.okscript-x-1.tmp", "a.yaml"), None);
        assert_eq!(temp_pid("a.yaml", "a.yaml"), None);
        assert_eq!(temp_pid(".a.yaml.okscript-42-.tmp", "a.yaml"), None);
    }

    #[test]
    fn write_keeps_mode_and_links_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.yaml");
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink("real.yaml", &link).unwrap();
        // A dangling link gets its target created.
        write(&link, b"one\n", NewFile::PRIVATE).unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"one\n");
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        write(&link, b"two\n", NewFile::PRIVATE).unwrap();
        assert_eq!(
            fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o640
        );
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        fs::set_permissions(&real, fs::Permissions::from_mode(0o444)).unwrap();
        let err = write(&link, b"three\n", NewFile::PRIVATE).unwrap_err();
        assert!(matches!(err, FsError::ReadOnly { .. }), "{err}");
        assert_eq!(fs::read(&real).unwrap(), b"two\n");
    }

    #[test]
    fn write_while_replaces_only_when_the_check_passes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.yaml");
        fs::write(&path, "old\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let names = || fs::read_dir(dir.path()).unwrap().count();
        // The check sees the temp file being written next to the target, not the target.
        let err = write_while(&path, b"new\n", NewFile::PLAIN, || {
            assert_eq!(fs::read(&path).unwrap(), b"old\n");
            Err::<(), _>(FsError::LinkLoop { path: path.clone() })
        })
        .unwrap_err();
        assert!(matches!(err, FsError::LinkLoop { .. }));
        assert_eq!((fs::read(&path).unwrap(), names()), (b"old\n".to_vec(), 1));
        let (real, value) =
            write_while(&path, b"new\n", NewFile::PLAIN, || Ok::<_, FsError>(7)).unwrap();
        assert_eq!((real, value), (path.clone(), 7));
        assert_eq!((fs::read(&path).unwrap(), names()), (b"new\n".to_vec(), 1));
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }

    #[test]
    fn link_loops_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::os::unix::fs::symlink("b", &a).unwrap();
        std::os::unix::fs::symlink("a", dir.path().join("b")).unwrap();
        assert!(matches!(resolve(&a), Err(FsError::LinkLoop { .. })));
    }
}
