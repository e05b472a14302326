//! Files of the ceremony: reading inputs with errors that name the file, and writing outputs without ever
//! replacing something by accident or leaving a private key readable by others, even for an instant.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// Mode of private keys and AppRole credentials.
pub const SECRET_MODE: u32 = 0o600;
/// Mode of certificates and CRLs (public).
pub const PUBLIC_MODE: u32 = 0o644;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} already exists; refusing to overwrite it (move it away first)")]
    Exists { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// Reads a text file (PEM); the content of a key file is wiped from memory when dropped.
pub fn read_text(path: &Path) -> Result<Zeroizing<String>, FileError> {
    std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|source| FileError::Read { path: path.to_owned(), source })
}

pub fn read_bytes(path: &Path) -> Result<Vec<u8>, FileError> {
    std::fs::read(path).map_err(|source| FileError::Read { path: path.to_owned(), source })
}

/// Creates a directory (and parents) that only its owner can enter, or accepts an existing one.
pub fn ensure_private_dir(path: &Path) -> Result<(), FileError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|source| FileError::Write { path: path.to_owned(), source })
}

/// Writes every file or none: each is created with `create_new` and its final mode (so a key is never
/// readable by others, not even between creation and a chmod), and all are removed again if one fails.
pub fn write_new_files(files: &[(&Path, &[u8], u32)]) -> Result<(), FileError> {
    for (path, _, _) in files {
        if path.exists() {
            return Err(FileError::Exists { path: path.to_path_buf() });
        }
    }
    let mut created: Vec<&Path> = Vec::new();
    for (path, content, mode) in files {
        if let Err(error) = write_new(path, content, *mode) {
            if !matches!(error, FileError::Exists { .. }) {
                let _ = std::fs::remove_file(path);
            }
            for done in created {
                let _ = std::fs::remove_file(done);
            }
            return Err(error);
        }
        created.push(path);
    }
    Ok(())
}

/// Creates `path` exclusively with `mode` and writes `content`.
pub fn write_new(path: &Path, content: &[u8], mode: u32) -> Result<(), FileError> {
    let mut file = open_new(path, mode)?;
    file.write_all(content)
        .and_then(|()| file.sync_all())
        .map_err(|source| FileError::Write { path: path.to_owned(), source })
}

/// Replaces `path` atomically (a temporary file next to it, then a rename), so readers such as a web server
/// serving a CRL never see a half-written file.
pub fn replace(path: &Path, content: &[u8], mode: u32) -> Result<(), FileError> {
    let file_name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{file_name}.tmp-{}", rand::random::<u32>()));
    write_new(&temporary, content, mode).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })?;
    std::fs::rename(&temporary, path).map_err(|source| {
        let _ = std::fs::remove_file(&temporary);
        FileError::Write { path: path.to_owned(), source }
    })
}

fn open_new(path: &Path, mode: u32) -> Result<File, FileError> {
    OpenOptions::new().write(true).create_new(true).mode(mode).open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            FileError::Exists { path: path.to_owned() }
        } else {
            FileError::Write { path: path.to_owned(), source }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("certdesk-files-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn writes_all_or_nothing_with_modes() {
        let dir = temp_dir();
        let (key, cert) = (dir.join("k"), dir.join("c"));
        write_new_files(&[(&key, b"secret", SECRET_MODE), (&cert, b"public", PUBLIC_MODE)]).unwrap();
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        let again = write_new_files(&[(&dir.join("other"), b"x", SECRET_MODE), (&cert, b"y", PUBLIC_MODE)]);
        assert!(matches!(again, Err(FileError::Exists { .. })));
        assert!(!dir.join("other").exists(), "nothing is written when one file exists");
        assert_eq!(std::fs::read(&cert).unwrap(), b"public");
    }

    #[test]
    fn replace_swaps_content_and_leaves_no_temporary() {
        let dir = temp_dir();
        let path = dir.join("crl");
        replace(&path, b"one", PUBLIC_MODE).unwrap();
        replace(&path, b"two", PUBLIC_MODE).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    }
}
