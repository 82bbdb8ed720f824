//! Key generation and key files. Each file is an artifact ([`crate::artifact`]) labelled with
//! the settings hash it was made for: a key read for other settings is a
//! [`ProverError::Mismatch`], never a silent misuse.

use crate::error::{ProverError, Result};
use crate::srs::Srs;
use halo2_axiom::halo2curves::bn256::G1Affine;
use halo2_axiom::plonk::{keygen_pk, keygen_vk, ProvingKey, VerifyingKey};
use halo2_axiom::SerdeFormat;
use std::path::Path;
use zkinfer_circuits::chip::ChipShape;
use zkinfer_circuits::ModelCircuit;

/// Generates the verifying and proving keys of `circuit`'s shape.
pub fn keygen(srs: &Srs, circuit: &ModelCircuit) -> Result<ProvingKey<G1Affine>> {
    crate::check_cpu()?;
    let blank = halo2_axiom::plonk::Circuit::without_witnesses(circuit);
    let backend = |e: halo2_axiom::plonk::Error| ProverError::Backend {
        stage: "keygen",
        reason: format!("{e:?}"),
    };
    let vk = keygen_vk(&srs.params, &blank).map_err(backend)?;
    keygen_pk(&srs.params, vk, &blank).map_err(backend)
}

/// Writes a key artifact bound to `settings_hash` ([`crate::artifact`]).
fn write_artifact(path: &Path, kind: &str, settings_hash: &str, payload: &[u8]) -> Result<()> {
    crate::artifact::write(path, kind, settings_hash, payload)
}

/// Reads a key artifact, checking container, checksum and that it was made for
/// `settings_hash`, before halo2 parses it: the whole file and where its payload starts (a
/// proving key is large; its bytes are not copied again).
fn read_artifact(path: &Path, kind: &'static str, settings_hash: &str) -> Result<(Vec<u8>, usize)> {
    let bytes = crate::artifact::read_file(path, 1 << 40)?;
    let (found, payload) = crate::artifact::parse(&bytes, path, kind)?;
    if found != settings_hash {
        return Err(ProverError::Mismatch {
            path: path.display().to_string(),
            kind,
            expected: settings_hash.into(),
            found,
        });
    }
    let start = bytes.len() - payload.len();
    Ok((bytes, start))
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

/// Reads a proving key of a circuit of `shape` (`Graph::chip_shape`), checking it was made
/// for `settings_hash`.
pub fn read_pk(path: &Path, settings_hash: &str, shape: ChipShape) -> Result<ProvingKey<G1Affine>> {
    crate::check_cpu()?;
    let (bytes, start) = read_artifact(path, "pk", settings_hash)?;
    ProvingKey::read::<_, ModelCircuit>(&mut &bytes[start..], SerdeFormat::RawBytesUnchecked, shape)
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

/// Reads a verifying key of a circuit of `shape` (`Graph::chip_shape`), checking it was made
/// for `settings_hash`.
pub fn read_vk(
    path: &Path,
    settings_hash: &str,
    shape: ChipShape,
) -> Result<VerifyingKey<G1Affine>> {
    crate::check_cpu()?;
    let (bytes, start) = read_artifact(path, "vk", settings_hash)?;
    VerifyingKey::read::<_, ModelCircuit>(&mut &bytes[start..], SerdeFormat::RawBytes, shape)
        .map_err(parse_err(path, "vk"))
}

/// SHA-256 (hex) of a verifying key's canonical bytes.
pub fn vk_hash(vk: &VerifyingKey<G1Affine>) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(vk.to_bytes(SerdeFormat::RawBytes)))
}
