//! The thin I/O layer under the config file editor: read, lock the folder, replace
//! atomically when the file still holds what was read.

use std::path::{Path, PathBuf};

use crate::fsio::{self, FolderLock, FsError, NewFile};

/// A file operation that failed, with the path.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file cannot be read or replaced safely (see [`FsError`]).
    #[error("{0}; nothing was written")]
    Fs(#[from] FsError),
    /// The file is not UTF-8 text.
    #[error("{} is not UTF-8 text", .0.display())]
    NotText(PathBuf),
    /// Someone else changed the file between okscript reading and writing it.
    #[error("{} changed while okscript was editing it; nothing was written", .0.display())]
    ChangedMeanwhile(PathBuf),
}

impl FileError {
    /// Advice to print after the error.
    pub fn hint(&self) -> String {
        match self {
            FileError::Fs(e) => e.hint(),
            FileError::NotText(_) => None,
            FileError::ChangedMeanwhile(_) => {
                Some("another program edited the file at the same time; run again".into())
            }
        }
        .unwrap_or_else(|| "check the file's and its folder's permissions, then run again".into())
    }
}

/// The file's text, or `None` when it does not exist. A FIFO or device is refused unopened.
pub fn read(path: &Path) -> Result<Option<String>, FileError> {
    match fsio::read(path)? {
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| FileError::NotText(path.to_path_buf())),
        None => Ok(None),
    }
}

/// Takes okscript's lock on the folder of the config file (created 0700 when missing), so
/// okscript processes editing it take turns: hold it from reading the file to writing it.
pub fn lock(path: &Path) -> Result<FolderLock, FileError> {
    let folder = fsio::folder_of(&fsio::resolve(path)?);
    fsio::create_private_folder(&folder)?;
    Ok(FolderLock::take(&folder)?)
}

/// Replaces the file at `path` with `text` atomically (see [`crate::fsio::write`]), when it
/// still holds `expected` (`None`: when it still does not exist). A new file gets mode 0600
/// (its folder, created if missing, 0700); an existing one keeps its mode. A symbolic link
/// is kept: the file it points to is replaced. Call it under [`lock`] so that the check
/// and the replace are one step for okscript processes.
pub fn write_atomic(path: &Path, text: &str, expected: Option<&str>) -> Result<(), FileError> {
    if read(path)?.as_deref() != expected {
        return Err(FileError::ChangedMeanwhile(path.to_path_buf()));
    }
    fsio::write(path, text.as_bytes(), NewFile::PRIVATE)?;
    Ok(())
}
