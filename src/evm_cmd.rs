//! The CLI's on-chain commands: `create-verifier`, `verify-evm`, `calldata`.

use anyhow::Result;
use serde_json::json;
use std::path::{Path, PathBuf};
use zkinfer::artifacts::{read_proof, ModelDir};
use zkinfer::evm::{calldata, create_verifier, verify_evm_checked, write_verifier};

/// `zkinfer create-verifier DIR [--out DIR/evm] [--self-contained]`.
pub fn create(dir: &Path, out: Option<&Path>, self_contained: bool) -> Result<serde_json::Value> {
    let d = ModelDir::new(dir)?;
    let settings = d.settings()?;
    let (srs, vk) = d.verifier(&settings)?;
    let v = create_verifier(&settings, &srs, &vk, self_contained)?;
    let out: PathBuf = out.map_or_else(|| dir.join("evm"), Path::to_path_buf);
    let files = write_verifier(&out, &v)?;
    Ok(json!({
        "out": out,
        "files": files,
        "verifier_runtime_bytes": v.compiled.runtime.len(),
        "proof_bytes": v.generated.proof_len,
        "self_contained": self_contained,
        "srs": srs.origin,
    }))
}

/// `zkinfer verify-evm DIR --proof PROOF.json`: returns (exit code, report).
pub fn verify(dir: &Path, proof: &Path) -> Result<(i32, serde_json::Value)> {
    let d = ModelDir::new(dir)?;
    let settings = d.settings()?;
    let (srs, vk) = d.verifier(&settings)?;
    let p = read_proof(proof)?;
    let v = create_verifier(&settings, &srs, &vk, false)?;
    match verify_evm_checked(&settings, &vk, &v, &p) {
        Ok(out) => Ok((
            if out.verified { 0 } else { 1 },
            json!({
                "verified": out.verified,
                "reverted": out.reverted,
                "gas": out.gas,
                "verifier_runtime_bytes": v.compiled.runtime.len(),
                "calldata_bytes": calldata(&p)?.len(),
            }),
        )),
        Err(e @ zkinfer::Error::Mismatch { .. })
        | Err(e @ zkinfer::Error::Prover(zkinfer_prover::ProverError::Rejected { .. })) => {
            Ok((1, json!({ "verified": false, "reason": e.to_string() })))
        }
        Err(e) => Err(e.into()),
    }
}

/// `zkinfer calldata DIR --proof PROOF.json`: hex calldata of `verifyProof(proof, instances)`.
pub fn encode(dir: &Path, proof: &Path) -> Result<String> {
    let d = ModelDir::new(dir)?;
    let settings = d.settings()?;
    let p = read_proof(proof)?;
    if p.settings_hash != settings.hash() {
        anyhow::bail!(
            "proof made for settings {}, {} holds {}",
            p.settings_hash,
            dir.display(),
            settings.hash()
        );
    }
    Ok(format!("0x{}", hex::encode(calldata(&p)?)))
}
