//! Reading policy and catalog files from a local checkout, within limits.
//!
//! The paths come from the command line (`--policy`, `--catalog`) and from the files of a catalog checkout, so a
//! path can name `/dev/zero`, a FIFO or a sparse file of terabytes. Only regular files are read, and at most
//! [`MAX_FILE_BYTES`] of them: the same limit the App applies to the files it reads from GitHub, so that what
//! `shipshape validate` accepts the App reads too.

use crate::diag::{Diagnostic, Diagnostics, Pos};
use crate::facts::MAX_READ_BYTES;
use std::fs::{File, FileType, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest policy or catalog file read.
pub const MAX_FILE_BYTES: u64 = MAX_READ_BYTES;

/// Why a policy or catalog file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a regular file ({0}): not read")]
    NotRegular(&'static str),
    #[error("larger than the {} MiB limit for policy and catalog files ({}): not read", MAX_FILE_BYTES / (1024 * 1024), size_text(*.0))]
    TooLarge(Option<u64>),
    #[error("not UTF-8 text")]
    NotUtf8,
}

fn size_text(size: Option<u64>) -> String {
    match size {
        Some(size) => format!("{size} bytes"),
        None => format!("more than {MAX_FILE_BYTES} bytes"),
    }
}

fn kind(file_type: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() { "a directory" } else { "not a file" }
}

fn check(meta: &Metadata) -> Result<(), ReadError> {
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind(meta.file_type())));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge(Some(meta.len())));
    }
    Ok(())
}

/// The text of the regular file at `path` (symlinks followed), of at most [`MAX_FILE_BYTES`].
pub fn read_limited(path: &Path) -> Result<String, ReadError> {
    // Looked at before opening: opening a FIFO waits for a writer.
    check(&std::fs::metadata(path)?)?;
    let file = File::open(path)?;
    // And again on what was opened, in case the path changed in between.
    let meta = file.metadata()?;
    check(&meta)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge(None));
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8)
}

/// [`read_limited`], with a problem added to `diags` against the file.
pub(crate) fn read(path: &Path, diags: &mut Diagnostics) -> Option<String> {
    match read_limited(path) {
        Ok(text) => Some(text),
        Err(e) => {
            diags.push(Diagnostic::error(path.display().to_string(), Pos::new(1, 1), e.to_string()));
            None
        }
    }
}

fn is_yaml_path(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "yaml" || x == "yml")
}

/// `*.yaml` and `*.yml` entries directly in `dir` that are not directories, sorted. Special files are listed too, so
/// that [`read`] says why they are not read instead of leaving them out in silence.
pub(crate) fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| is_yaml_path(p) && !p.is_dir()).collect())
        .unwrap_or_default();
    files.sort();
    files
}
