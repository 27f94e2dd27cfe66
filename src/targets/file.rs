//! The `file:PATH` target: an aws-auth ConfigMap manifest on disk, as kept in GitOps repos.
//! Writes are atomic (temp file, fsync, rename, mode kept) and serialised between okscript
//! processes by a lock on the folder; a file that changed since the script read it gets the
//! script's intents replayed on its new content instead of being overwritten.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use super::{replay, Commit, Snapshot, Target, TargetError};
use crate::access::intent::Intent;
use crate::access::lint;
use crate::access::manifest::Manifest;
use crate::access::model::{AwsAuth, Protected};

/// An aws-auth manifest file.
#[derive(Debug)]
pub struct FileTarget {
    path: PathBuf,
}

/// What a read found on disk.
struct Loaded {
    text: Option<String>,
    manifest: Manifest,
}

impl FileTarget {
    /// A target for the manifest at `path` (created when missing).
    pub fn new(path: impl Into<PathBuf>) -> FileTarget {
        FileTarget { path: path.into() }
    }

    fn shown(&self) -> String {
        self.path.display().to_string()
    }

    fn io(&self, what: &'static str, source: std::io::Error) -> TargetError {
        TargetError::Io {
            what,
            path: self.shown(),
            source,
        }
    }

    fn load(&self) -> Result<Loaded, TargetError> {
        match fs::read(&self.path) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes).map_err(|_| {
                    self.io(
                        "reading",
                        std::io::Error::new(ErrorKind::InvalidData, "the file is not UTF-8 text"),
                    )
                })?;
                let manifest = if text.trim().is_empty() {
                    Manifest::fresh()
                } else {
                    Manifest::parse(&text).map_err(|error| TargetError::Manifest {
                        path: self.shown(),
                        error,
                    })?
                };
                Ok(Loaded {
                    text: Some(text),
                    manifest,
                })
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Loaded {
                text: None,
                manifest: Manifest::fresh(),
            }),
            Err(e) => Err(self.io("reading", e)),
        }
    }

    fn folder(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// Writes `text` next to the file and renames it over the file, keeping its mode.
    fn write_atomically(&self, text: &str) -> Result<(), TargetError> {
        let folder = self.folder();
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "aws-auth.yaml".into());
        let tmp = folder.join(format!(".{name}.{}.okscript-tmp", std::process::id()));
        let result = (|| {
            let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
            f.write_all(text.as_bytes())?;
            if let Ok(meta) = fs::metadata(&self.path) {
                f.set_permissions(meta.permissions())?;
            }
            f.sync_all()?;
            fs::rename(&tmp, &self.path)?;
            // Make the rename itself durable.
            if let Ok(dir) = File::open(&folder) {
                let _ = dir.sync_all();
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map_err(|e| self.io("writing", e))
    }

    fn snapshot(&self, loaded: &Loaded) -> Snapshot {
        let mut warnings = Vec::new();
        if loaded.text.is_none() {
            warnings.push(format!(
                "{} does not exist: okscript will create a fresh aws-auth manifest there; it holds no node roles, so do not apply it to a cluster that has nodes without adding them",
                self.shown()
            ));
        }
        for f in lint::findings(&loaded.manifest.auth) {
            if f.code == "duplicate" || f.code == "role-path" {
                let line = f
                    .line
                    .and_then(|l| loaded.manifest.file_line(section_named(f.section), l))
                    .map_or(String::new(), |l| format!(":{l}"));
                warnings.push(format!(
                    "{}{line}: data.{}: {}",
                    self.shown(),
                    f.section,
                    f.message
                ));
            }
        }
        Snapshot {
            auth: loaded.manifest.auth.clone(),
            version: loaded.text.clone().unwrap_or_default(),
            warnings,
        }
    }
}

fn section_named(key: &str) -> crate::access::section::SectionName {
    use crate::access::section::SectionName;
    SectionName::ALL
        .into_iter()
        .find(|n| n.key() == key)
        .unwrap_or(SectionName::MapRoles)
}

/// Holds the folder's advisory lock until dropped, so okscript writers take turns.
struct FolderLock(File);

impl FolderLock {
    fn take(folder: &Path) -> std::io::Result<FolderLock> {
        let f = File::open(folder)?;
        f.lock()?;
        Ok(FolderLock(f))
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl Target for FileTarget {
    fn describe(&self) -> String {
        format!("file:{}", self.shown())
    }

    fn read(&mut self) -> Result<Snapshot, TargetError> {
        let loaded = self.load()?;
        Ok(self.snapshot(&loaded))
    }

    fn commit(
        &mut self,
        base: &Snapshot,
        staged: &AwsAuth,
        intents: &[Intent],
        protected: &Protected,
    ) -> Result<Commit, TargetError> {
        let folder = self.folder();
        let _lock = FolderLock::take(&folder).map_err(|e| self.io("locking the folder of", e))?;
        let current = self.load()?;
        let current_version = current.text.clone().unwrap_or_default();
        let (after, notes) = if current_version == base.version {
            (staged.clone(), Vec::new())
        } else {
            let (auth, mut notes) =
                replay(&current.manifest.auth, intents, protected).map_err(|refusal| {
                    TargetError::Replay {
                        target: self.describe(),
                        refusal,
                    }
                })?;
            notes.insert(
                0,
                format!("{} changed while the script ran; okscript replayed the script's changes on the new content", self.shown()),
            );
            (auth, notes)
        };
        let before = current.manifest.auth.clone();
        let written = !after.is_unchanged();
        let mut new_text = current.text.clone();
        if written {
            let text = current
                .manifest
                .render(&after)
                .map_err(|error| TargetError::Manifest {
                    path: self.shown(),
                    error,
                })?;
            self.write_atomically(&text)?;
            new_text = Some(text);
        }
        let reread = Loaded {
            manifest: match &new_text {
                Some(t) if !t.trim().is_empty() => {
                    Manifest::parse(t).map_err(|error| TargetError::Manifest {
                        path: self.shown(),
                        error,
                    })?
                }
                _ => Manifest::fresh(),
            },
            text: new_text,
        };
        let mut snapshot = self.snapshot(&reread);
        snapshot.warnings.clear();
        Ok(Commit {
            before,
            after,
            written,
            notes,
            snapshot,
        })
    }
}
