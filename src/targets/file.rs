//! The `file:PATH` target: an aws-auth ConfigMap manifest on disk, as kept in GitOps repos.
//! Reads and writes go through [`crate::fsio`] (regular files only, symlinks kept, read-only
//! files refused, atomic replace) and are serialised between okscript processes by a lock on
//! the folder; a file deleted while the script ran is not recreated; a file that changed since the script read it gets the
//! script's intents replayed on its new content instead of being overwritten.

use std::io::ErrorKind;
use std::path::PathBuf;

use super::{read_warnings, replay, Commit, Pending, Snapshot, Target, TargetError};
use crate::access::manifest::Manifest;
use crate::access::model::AwsAuth;
use crate::access::plan;
use crate::access::section::SectionName;
use crate::fsio::{self, NewFile};

/// An aws-auth manifest file.
#[derive(Debug)]
pub struct FileTarget {
    path: PathBuf,
    /// The last state read or written: a re-read of the same text reuses its parse.
    last: Option<Loaded>,
    /// Whether the file existed at the last read or write, to notice it being deleted.
    existed: bool,
    /// Set by a write: the next read gives no warnings (the first read gave them).
    quiet: bool,
}

/// What a read found on disk.
#[derive(Debug)]
struct Loaded {
    text: Option<std::sync::Arc<str>>,
    manifest: Manifest,
}

impl FileTarget {
    /// A target for the manifest at `path` (created when missing).
    pub fn new(path: impl Into<PathBuf>) -> FileTarget {
        FileTarget {
            path: path.into(),
            last: None,
            existed: false,
            quiet: false,
        }
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

    /// Reads the file. When its text equals `same_as` (the snapshot being committed), the
    /// cached parse is reused; its model may have been moved into that snapshot already.
    fn load(&mut self, same_as: Option<&str>) -> Result<Loaded, TargetError> {
        match fsio::read(&self.path)? {
            Some(bytes) => {
                let text = String::from_utf8(bytes).map_err(|_| {
                    self.io(
                        "reading",
                        std::io::Error::new(ErrorKind::InvalidData, "the file is not UTF-8 text"),
                    )
                })?;
                if let Some(last) = self.last.take() {
                    if same_as == Some(text.as_str()) && last.text.as_deref() == same_as {
                        return Ok(last);
                    }
                }
                let text: std::sync::Arc<str> = text.into();
                let manifest = if text.trim().is_empty() {
                    Manifest::fresh()
                } else {
                    Manifest::parse_shared(text.clone()).map_err(|error| TargetError::Manifest {
                        path: self.shown(),
                        error,
                    })?
                };
                Ok(Loaded {
                    text: Some(text),
                    manifest,
                })
            }
            None if !self.folder()?.is_dir() => Err(TargetError::NoFolder {
                path: self.shown(),
                folder: self.folder()?.display().to_string(),
            }),
            None => Ok(Loaded {
                text: None,
                manifest: Manifest::fresh(),
            }),
        }
    }

    /// The folder of the file that is really written (a symlink's target's).
    fn folder(&self) -> Result<PathBuf, TargetError> {
        Ok(fsio::folder_of(&fsio::resolve(&self.path)?))
    }

    /// A snapshot of `loaded`, moving its model out (the cache keeps only text and layout).
    fn snapshot(&self, loaded: &mut Loaded, with_warnings: bool) -> Snapshot {
        let mut warnings = Vec::new();
        let auth = std::mem::replace(&mut loaded.manifest.auth, AwsAuth::empty());
        if !with_warnings {
            return Snapshot {
                auth,
                version: loaded.text.clone().unwrap_or_default(),
                warnings,
            };
        }
        if loaded.text.is_none() {
            warnings.push(format!(
                "{} does not exist: okscript will create a fresh aws-auth manifest there; it holds no node roles, so do not apply it to a cluster that has nodes without adding them",
                self.shown()
            ));
        }
        warnings.extend(read_warnings(&auth, |f| {
            let line = f
                .line
                .zip(SectionName::from_key(f.section))
                .and_then(|(l, name)| loaded.manifest.file_line(name, l))
                .map_or(String::new(), |l| format!(":{l}"));
            format!("{}{line}: data.{}", self.shown(), f.section)
        }));
        Snapshot {
            auth,
            version: loaded.text.clone().unwrap_or_default(),
            warnings,
        }
    }
}

impl Target for FileTarget {
    fn describe(&self) -> String {
        format!("file:{}", self.shown())
    }

    fn read(&mut self) -> Result<Snapshot, TargetError> {
        let mut loaded = self.load(None)?;
        let warn = !std::mem::take(&mut self.quiet);
        let snapshot = self.snapshot(&mut loaded, warn);
        self.existed = loaded.text.is_some();
        self.last = Some(loaded);
        Ok(snapshot)
    }

    fn commit(&mut self, pending: Pending<'_>) -> Result<Commit, TargetError> {
        let _lock = fsio::FolderLock::take(&self.folder()?)?;
        let current = self.load(Some(&pending.base.version))?;
        if self.existed && current.text.is_none() {
            // Recreating it would drop every entry the script saw, node roles included.
            return Err(TargetError::Deleted { path: self.shown() });
        }
        let unchanged_since_read =
            current.text.as_deref().unwrap_or_default() == &*pending.base.version;
        let replayed;
        let mut notes = Vec::new();
        let (before, after) = if unchanged_since_read {
            (&pending.base.auth, pending.staged)
        } else {
            let (auth, replay_notes) = replay(
                &self.shown(),
                "",
                &current.manifest.auth,
                pending.intents,
                pending.protected,
            )?;
            notes.extend(replay_notes);
            replayed = auth;
            (&current.manifest.auth, &replayed)
        };
        let written = !after.is_unchanged();
        let manifest_error = |error| TargetError::Manifest {
            path: self.shown(),
            error,
        };
        if written {
            let rendered = current
                .manifest
                .render_unchecked(after)
                .map_err(manifest_error)?;
            // While the new text goes to disk (its fsync is most of a write's time), it is read
            // back, and the file is replaced only if that check passes; then the summary and
            // the diff are made. One thread allocates: a second malloc arena would cost more
            // fresh pages than the overlap saves.
            let (_, (summary, diff)) =
                fsio::write_while(&self.path, rendered.text.as_bytes(), NewFile::PLAIN, || {
                    current
                        .manifest
                        .check(after, &rendered)
                        .map_err(manifest_error)?;
                    Ok::<_, TargetError>((
                        plan::summarize(before, after),
                        plan::diff(before, after),
                    ))
                })?;
            // What was written is read again only if the script stages more, and quietly:
            // its warnings were given at the first read.
            self.existed = true;
            self.last = None;
            self.quiet = true;
            return Ok(Commit {
                summary,
                diff,
                written,
                notes,
                snapshot: None,
            });
        }
        let summary = plan::summarize(before, after);
        let diff = plan::diff(before, after);
        if unchanged_since_read {
            // The cached parse lent its model to `pending.base`; the caller keeps using that.
            return Ok(Commit {
                summary,
                diff,
                written,
                notes,
                snapshot: Some(Snapshot {
                    auth: pending.staged.clone(),
                    version: pending.base.version.clone(),
                    warnings: Vec::new(),
                }),
            });
        }
        let mut now = current;
        let snapshot = self.snapshot(&mut now, false);
        self.existed = now.text.is_some();
        self.last = Some(now);
        Ok(Commit {
            summary,
            diff,
            written,
            notes,
            snapshot: Some(snapshot),
        })
    }
}
