//! The container every binary artifact of zkinfer is written in (keys, SRS parameters):
//!
//! `ZKINFER\0`, a 4-byte kind (`pk  `, `vk  `, `srs `), the format version (u32 LE), a label
//! (u32 LE length, UTF-8: the settings hash a key was made for, the origin of an SRS), the
//! SHA-256 of kind, label and payload, then the payload. A truncated or corrupted file, one
//! of another kind or version, and an edited label are errors before anything parses the
//! payload.

use crate::error::{io_err, ProverError, Result};
use crate::FORMAT_VERSION;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

/// The first bytes of every artifact.
pub(crate) const MAGIC: &[u8; 8] = b"ZKINFER\0";

/// The longest label accepted (an origin's JSON, a settings hash).
const MAX_LABEL: usize = 4096;

fn checksum(kind: &[u8; 4], label: &[u8], payload: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(kind);
    h.update((label.len() as u32).to_le_bytes());
    h.update(label);
    h.update(payload);
    h.finalize().into()
}

fn kind_bytes(kind: &str) -> [u8; 4] {
    let mut k = [b' '; 4];
    k[..kind.len()].copy_from_slice(kind.as_bytes());
    k
}

/// Writes an artifact to `path` through a temporary file in the same directory (a reader
/// never sees half a file).
pub(crate) fn write(path: &Path, kind: &str, label: &str, payload: &[u8]) -> Result<()> {
    let kb = kind_bytes(kind);
    let tmp = {
        static WRITERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = WRITERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".tmp{}-{n}", std::process::id()));
        std::path::PathBuf::from(name)
    };
    let write = || -> std::io::Result<()> {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        w.write_all(MAGIC)?;
        w.write_all(&kb)?;
        w.write_all(&FORMAT_VERSION.to_le_bytes())?;
        w.write_all(&(label.len() as u32).to_le_bytes())?;
        w.write_all(label.as_bytes())?;
        w.write_all(&checksum(&kb, label.as_bytes(), payload))?;
        w.write_all(payload)?;
        w.flush()
    };
    write()
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io_err(path)(e)
        })
}

/// Whether `bytes` start like an artifact.
pub(crate) fn is_artifact(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Parses an artifact of `kind` from `bytes` (a whole file read from `path`): its label and
/// payload, after checking kind, version and checksum.
pub(crate) fn parse<'b>(
    bytes: &'b [u8],
    path: &Path,
    kind: &'static str,
) -> Result<(String, &'b [u8])> {
    let bad = |reason: String| ProverError::BadArtifact {
        path: path.display().to_string(),
        kind,
        reason,
    };
    if !is_artifact(bytes) {
        return Err(bad("not a zkinfer file (no ZKINFER header)".into()));
    }
    let kb = kind_bytes(kind);
    let field = |at: usize, len: usize| {
        bytes
            .get(at..at + len)
            .ok_or_else(|| bad("truncated header".into()))
    };
    let found = field(8, 4)?;
    if found != kb {
        return Err(bad(format!(
            "a `{}` file, not `{kind}`",
            String::from_utf8_lossy(found).trim_end()
        )));
    }
    let version = u32::from_le_bytes(field(12, 4)?.try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(bad(format!(
            "format version {version}, this build reads {FORMAT_VERSION}"
        )));
    }
    let len = u32::from_le_bytes(field(16, 4)?.try_into().expect("4 bytes")) as usize;
    if len > MAX_LABEL {
        return Err(bad("corrupt header (label too long)".into()));
    }
    let label = field(20, len)?;
    let sum = field(20 + len, 32)?;
    let payload = &bytes[20 + len + 32..];
    if checksum(&kb, label, payload) != *sum {
        return Err(bad("checksum mismatch (truncated or corrupted file)".into()));
    }
    let label = std::str::from_utf8(label).map_err(|_| bad("label is not UTF-8".into()))?;
    Ok((label.to_string(), payload))
}

/// Reads a whole file, refusing one larger than `max` bytes before reading it.
pub(crate) fn read_file(path: &Path, max: u64) -> Result<Vec<u8>> {
    let len = std::fs::metadata(path).map_err(io_err(path))?.len();
    if len > max {
        return Err(ProverError::BadArtifact {
            path: path.display().to_string(),
            kind: "file",
            reason: format!("{len} bytes, more than any artifact of this size holds ({max})"),
        });
    }
    std::fs::read(path).map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_change_is_caught_before_the_payload_is_read() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a.bin");
        write(&path, "srs", "{\"kind\":\"file\"}", b"payload bytes").unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let (label, payload) = parse(&bytes, &path, "srs").unwrap();
        assert_eq!(
            (label.as_str(), payload),
            ("{\"kind\":\"file\"}", &b"payload bytes"[..])
        );
        assert!(parse(&bytes, &path, "pk").is_err());
        for i in 8..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 1;
            assert!(parse(&b, &path, "srs").is_err(), "byte {i}");
        }
        for cut in 0..bytes.len() {
            assert!(parse(&bytes[..cut], &path, "srs").is_err(), "cut {cut}");
        }
    }
}
