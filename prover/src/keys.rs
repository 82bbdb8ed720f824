//! Key generation and key files. Each file starts with a header binding it to the settings
//! it was made for: `ZKINFER\0`, kind, format version, settings hash; a key read for other
//! settings is a [`ProverError::Mismatch`], never a silent misuse.

use crate::error::{io_err, ProverError, Result};
use crate::srs::Srs;
use crate::FORMAT_VERSION;
use halo2_axiom::halo2curves::bn256::G1Affine;
use halo2_axiom::plonk::{keygen_pk, keygen_vk, ProvingKey, VerifyingKey};
use halo2_axiom::SerdeFormat;
use std::io::{Read, Write};
use std::path::Path;
use zkinfer_circuits::ModelCircuit;

const MAGIC: &[u8; 8] = b"ZKINFER\0";

/// Generates the verifying and proving keys of `circuit`'s shape.
pub fn keygen(srs: &Srs, circuit: &ModelCircuit) -> Result<ProvingKey<G1Affine>> {
    let blank = halo2_axiom::plonk::Circuit::without_witnesses(circuit);
    let backend = |e: halo2_axiom::plonk::Error| ProverError::Backend {
        stage: "keygen",
        reason: format!("{e:?}"),
    };
    let vk = keygen_vk(&srs.params, &blank).map_err(backend)?;
    keygen_pk(&srs.params, vk, &blank).map_err(backend)
}

fn write_header(w: &mut impl Write, kind: &str, settings_hash: &str) -> std::io::Result<()> {
    w.write_all(MAGIC)?;
    let kind = format!("{kind:<4}");
    w.write_all(kind.as_bytes())?;
    w.write_all(&FORMAT_VERSION.to_le_bytes())?;
    w.write_all(&(settings_hash.len() as u32).to_le_bytes())?;
    w.write_all(settings_hash.as_bytes())
}

fn read_header(
    r: &mut impl Read,
    path: &Path,
    kind: &'static str,
    settings_hash: &str,
) -> Result<()> {
    let bad = |reason: String| ProverError::BadArtifact {
        path: path.display().to_string(),
        kind,
        reason,
    };
    let mut head = [0u8; 20];
    r.read_exact(&mut head).map_err(|e| bad(e.to_string()))?;
    if &head[..8] != MAGIC || head[8..12] != *format!("{kind:<4}").as_bytes() {
        return Err(bad("wrong magic or kind".into()));
    }
    let version = u32::from_le_bytes(head[12..16].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(bad(format!(
            "format version {version}, this build reads {FORMAT_VERSION}"
        )));
    }
    let len = u32::from_le_bytes(head[16..20].try_into().expect("4 bytes")) as usize;
    if len > 256 {
        return Err(bad("corrupt header".into()));
    }
    let mut hash = vec![0u8; len];
    r.read_exact(&mut hash).map_err(|e| bad(e.to_string()))?;
    let found = String::from_utf8_lossy(&hash).to_string();
    if found != settings_hash {
        return Err(ProverError::Mismatch {
            path: path.display().to_string(),
            kind,
            expected: settings_hash.into(),
            found,
        });
    }
    Ok(())
}

/// Writes header, SHA-256 of the payload, payload.
fn write_artifact(path: &Path, kind: &str, settings_hash: &str, payload: &[u8]) -> Result<()> {
    use sha2::{Digest, Sha256};
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).map_err(io_err(path))?);
    write_header(&mut w, kind, settings_hash).map_err(io_err(path))?;
    w.write_all(&Sha256::digest(payload))
        .map_err(io_err(path))?;
    w.write_all(payload).map_err(io_err(path))?;
    w.flush().map_err(io_err(path))
}

/// Reads an artifact written by [`write_artifact`], checking header and checksum, so a
/// truncated or corrupted key is an error before halo2 parses it.
fn read_artifact(path: &Path, kind: &'static str, settings_hash: &str) -> Result<Vec<u8>> {
    use sha2::{Digest, Sha256};
    let mut r = std::io::BufReader::new(std::fs::File::open(path).map_err(io_err(path))?);
    read_header(&mut r, path, kind, settings_hash)?;
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).map_err(io_err(path))?;
    if rest.len() < 32 || Sha256::digest(&rest[32..]).as_slice() != &rest[..32] {
        return Err(ProverError::BadArtifact {
            path: path.display().to_string(),
            kind,
            reason: "checksum mismatch (truncated or corrupted file)".into(),
        });
    }
    rest.drain(..32);
    Ok(rest)
}

fn parse_err(path: &Path, kind: &'static str) -> impl FnOnce(std::io::Error) -> ProverError {
    let path = path.display().to_string();
    move |e| ProverError::BadArtifact {
        path,
        kind,
        reason: e.to_string(),
    }
}

/// Writes a proving key bound to `settings_hash`.
pub fn write_pk(path: &Path, pk: &ProvingKey<G1Affine>, settings_hash: &str) -> Result<()> {
    write_artifact(
        path,
        "pk",
        settings_hash,
        &pk.to_bytes(SerdeFormat::RawBytesUnchecked),
    )
}

/// Reads a proving key, checking it was made for `settings_hash`.
pub fn read_pk(path: &Path, settings_hash: &str) -> Result<ProvingKey<G1Affine>> {
    let bytes = read_artifact(path, "pk", settings_hash)?;
    ProvingKey::read::<_, ModelCircuit>(&mut bytes.as_slice(), SerdeFormat::RawBytesUnchecked, ())
        .map_err(parse_err(path, "pk"))
}

/// Writes a verifying key bound to `settings_hash`.
pub fn write_vk(path: &Path, vk: &VerifyingKey<G1Affine>, settings_hash: &str) -> Result<()> {
    write_artifact(
        path,
        "vk",
        settings_hash,
        &vk.to_bytes(SerdeFormat::RawBytes),
    )
}

/// Reads a verifying key, checking it was made for `settings_hash`.
pub fn read_vk(path: &Path, settings_hash: &str) -> Result<VerifyingKey<G1Affine>> {
    let bytes = read_artifact(path, "vk", settings_hash)?;
    VerifyingKey::read::<_, ModelCircuit>(&mut bytes.as_slice(), SerdeFormat::RawBytes, ())
        .map_err(parse_err(path, "vk"))
}

/// SHA-256 (hex) of a verifying key's canonical bytes.
pub fn vk_hash(vk: &VerifyingKey<G1Affine>) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(vk.to_bytes(SerdeFormat::RawBytes)))
}
