//! Reading a file the user named (the token file, a `--jwks` file, a trust policy): whole, up
//! to a cap, and only if it is a regular file.
//!
//! The type is checked before the file is opened: opening a FIFO blocks until a writer
//! appears, and a device such as `/dev/zero` never ends, so either would hang the run or
//! fill memory up to the cap with something that is not the document. The cap refuses a
//! larger file instead of cutting it, so a truncated document is never parsed as if whole.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;

use thiserror::Error;

/// A file that cannot be used as the document it was named for.
#[derive(Debug, Error)]
pub enum FileError {
    /// It does not exist, or cannot be opened or read.
    #[error("cannot read {what} `{path}`: {source}")]
    Unreadable {
        /// What the file was named for ("the token file", "the JWKS file", ...).
        what: &'static str,
        /// The path as given.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A directory, FIFO, socket or device.
    #[error("{what} `{path}` is {kind}, not a regular file")]
    NotRegular {
        /// What the file was named for.
        what: &'static str,
        /// The path as given.
        path: String,
        /// What it is instead.
        kind: &'static str,
    },
    /// Larger than any document of its kind.
    #[error("{what} `{path}` is larger than {limit} bytes")]
    TooLarge {
        /// What the file was named for.
        what: &'static str,
        /// The path as given.
        path: String,
        /// The cap.
        limit: u64,
    },
    /// Not UTF-8 text.
    #[error("{what} `{path}` is not UTF-8 text")]
    NotText {
        /// What the file was named for.
        what: &'static str,
        /// The path as given.
        path: String,
    },
}

impl FileError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            FileError::Unreadable { .. } => "check the path and that the file is readable",
            FileError::NotRegular { .. } => {
                "name a regular file: a directory, pipe (FIFO), socket or device is not read, so that a run cannot hang on it; to pass a token through a pipe, give `-` and pipe it to standard input"
            }
            FileError::TooLarge { .. } => {
                "name the document itself: a GitHub OIDC token, a JWKS and a trust policy are each a few kilobytes"
            }
            FileError::NotText { .. } => "save the document as UTF-8 text (JSON or YAML)",
        }
    }
}

/// Reads `path` whole as UTF-8 text, refusing anything but a regular file of at most `limit`
/// bytes. `what` names the file in messages ("the token file").
pub fn read_text(path: &Path, what: &'static str, limit: u64) -> Result<String, FileError> {
    read_text_as(path, &path.display().to_string(), what, limit)
}

/// [`read_text`], naming the file `name` in messages (the path as the user gave it, when
/// `path` was resolved against a workspace).
pub fn read_text_as(
    path: &Path,
    name: &str,
    what: &'static str,
    limit: u64,
) -> Result<String, FileError> {
    let shown = || name.to_owned();
    let unreadable = |source| FileError::Unreadable {
        what,
        path: shown(),
        source,
    };
    // `metadata` follows symlinks, so a link to a FIFO is refused like the FIFO.
    let metadata = std::fs::metadata(path).map_err(unreadable)?;
    regular(&metadata, what, &shown)?;
    let file = File::open(path).map_err(unreadable)?;
    // The path may have been replaced between the two calls; what was opened is what counts.
    regular(&file.metadata().map_err(unreadable)?, what, &shown)?;
    if metadata.len() > limit {
        return Err(FileError::TooLarge {
            what,
            path: shown(),
            limit,
        });
    }
    let mut bytes = Vec::new();
    // One byte more than the cap tells a file of exactly the cap from a larger one (a file
    // may grow after its size was read).
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > limit {
        return Err(FileError::TooLarge {
            what,
            path: shown(),
            limit,
        });
    }
    String::from_utf8(bytes).map_err(|_| FileError::NotText {
        what,
        path: shown(),
    })
}

fn regular(
    metadata: &Metadata,
    what: &'static str,
    shown: &dyn Fn() -> String,
) -> Result<(), FileError> {
    if metadata.is_file() {
        return Ok(());
    }
    Err(FileError::NotRegular {
        what,
        path: shown(),
        kind: kind(metadata),
    })
}

fn kind(metadata: &Metadata) -> &'static str {
    let file_type = metadata.file_type();
    if file_type.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a pipe (FIFO)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
    }
    "not a regular file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_regular_file_up_to_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.txt");
        std::fs::write(&path, "abcd").unwrap();
        assert_eq!(read_text(&path, "the file", 4).unwrap(), "abcd");
        assert!(matches!(
            read_text(&path, "the file", 3),
            Err(FileError::TooLarge { limit: 3, .. })
        ));
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        assert!(matches!(
            read_text(&path, "the file", 4),
            Err(FileError::NotText { .. })
        ));
    }

    #[test]
    fn refuses_what_is_not_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_text(dir.path(), "the file", 4).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("is a directory, not a regular file"),
            "{err}"
        );
        let err = read_text(Path::new("/dev/zero"), "the file", 4).unwrap_err();
        assert!(err.to_string().contains("is a device"), "{err}");
        let err = read_text(&dir.path().join("missing"), "the file", 4).unwrap_err();
        assert!(matches!(err, FileError::Unreadable { .. }), "{err}");
    }
}
