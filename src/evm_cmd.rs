//! The CLI's on-chain commands: `create-verifier`, `verify-evm`, `deploy`, `verify-onchain`,
//! `calldata`.

use anyhow::Result;
use serde_json::json;
use std::path::{Path, PathBuf};
use zkinfer::artifacts::{read_proof, ModelDir};
use zkinfer::evm::{calldata, create_verifier, verify_evm_checked, write_verifier};
use zkinfer_verifier_contracts::node::Node;

/// Says on stderr that `dir`'s SRS is the development one, when it is (read from the
/// parameters, [`zkinfer_prover::is_dev_params`]); returns whether it is.
pub fn warn_if_insecure(dir: &Path, srs: &zkinfer_prover::Srs) -> bool {
    let insecure = srs.origin.is_insecure();
    if insecure {
        eprintln!(
            "warning: {} was set up with the development SRS: its secret comes from a public \
             seed, so anyone can forge proofs that verify under it. For real use, set it up \
             with a ceremony SRS: `zkinfer setup {} --srs FILE.ptau`",
            dir.display(),
            dir.display()
        );
    }
    insecure
}

/// `zkinfer create-verifier DIR [--out DIR/evm] [--self-contained]`.
pub fn create(dir: &Path, out: Option<&Path>, self_contained: bool) -> Result<serde_json::Value> {
    let d = ModelDir::new(dir)?;
    let settings = d.settings()?;
    let (srs, vk) = d.verifier(&settings)?;
    let insecure = warn_if_insecure(dir, &srs);
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
        "insecure_srs": insecure,
    }))
}

/// `zkinfer verify-evm DIR --proof PROOF.json [--self-contained]`: returns (exit code,
/// report).
pub fn verify(dir: &Path, proof: &Path, self_contained: bool) -> Result<(i32, serde_json::Value)> {
    let d = ModelDir::new(dir)?;
    let settings = d.settings()?;
    let (srs, vk) = d.verifier(&settings)?;
    let insecure = warn_if_insecure(dir, &srs);
    let p = read_proof(proof)?;
    let v = create_verifier(&settings, &srs, &vk, self_contained)?;
    match verify_evm_checked(&settings, &vk, &v, &p) {
        Ok(out) => Ok((
            if out.verified { 0 } else { 1 },
            json!({
                "verified": out.verified,
                "reverted": out.reverted,
                "gas": out.gas,
                "verifier_runtime_bytes": v.compiled.runtime.len(),
                "calldata_bytes": calldata(&p)?.len(),
                "insecure_srs": insecure,
            }),
        )),
        Err(e @ zkinfer::Error::Mismatch { .. })
        | Err(e @ zkinfer::Error::Prover(zkinfer_prover::ProverError::Rejected { .. })) => Ok((
            1,
            json!({ "verified": false, "reason": e.to_string(), "insecure_srs": insecure }),
        )),
        Err(e) => Err(e.into()),
    }
}

/// `zkinfer calldata DIR --proof PROOF.json`: hex calldata of `verifyProof(proof, instances)`.
pub fn encode(dir: &Path, proof: &Path) -> Result<String> {
    let p = proof_for(dir, proof)?;
    Ok(format!("0x{}", hex::encode(calldata(&p)?)))
}

/// Where `deploy` records a deployment.
fn deployment_path(dir: &Path) -> PathBuf {
    dir.join("evm").join("deployment.json")
}

/// `zkinfer deploy DIR --rpc-url URL --private-key KEY [--allow-insecure-srs]`. A directory
/// set up with the development SRS is refused unless `allow_insecure`: a verifier under it
/// accepts proofs anyone can forge.
pub fn deploy(
    dir: &Path,
    rpc_url: &str,
    private_key: &str,
    allow_insecure: bool,
) -> Result<serde_json::Value> {
    let d = ModelDir::new(dir)?;
    let settings = d.settings()?;
    let (srs, vk) = d.verifier(&settings)?;
    if srs.origin.is_insecure() && !allow_insecure {
        anyhow::bail!(
            "{} was set up with the development SRS: its secret comes from a public seed, so \
             anyone could forge proofs that the deployed verifier accepts. Set it up with a \
             ceremony SRS (`zkinfer setup {} --srs FILE.ptau`), or pass --allow-insecure-srs \
             to deploy to a test chain anyway",
            dir.display(),
            dir.display()
        );
    }
    let insecure = warn_if_insecure(dir, &srs);
    let v = create_verifier(&settings, &srs, &vk, false)?;
    let node = Node::new(rpc_url)?.with_key(private_key)?;
    let deployment = node.deploy_verifier(&v.generated, &v.compiled)?;
    let path = deployment_path(dir);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| anyhow::anyhow!("{}: {e}", parent.display()))?;
    }
    zkinfer::artifacts::write_json(&path, &deployment)?;
    let mut value = serde_json::to_value(&deployment)?;
    value["settings_hash"] = json!(settings.hash());
    value["insecure_srs"] = json!(insecure);
    value["written"] = json!(path);
    Ok(value)
}

/// `zkinfer verify-onchain DIR --proof PROOF.json --rpc-url URL [--address ADDR]`, sent as a
/// transaction when `key` is given: returns (exit code, report).
pub fn verify_onchain(
    dir: &Path,
    proof: &Path,
    rpc_url: &str,
    address: Option<&str>,
    key: Option<&str>,
) -> Result<(i32, serde_json::Value)> {
    let p = proof_for(dir, proof)?;
    // The verifier on chain was generated from DIR's setup: warn when that is the dev SRS.
    let d = ModelDir::new(dir)?;
    let insecure = match d.verifier(&d.settings()?) {
        Ok((srs, _)) => Some(warn_if_insecure(dir, &srs)),
        Err(_) => None,
    };
    let address = match address {
        Some(a) => a
            .parse()
            .map_err(|e| anyhow::anyhow!("--address {a}: {e}"))?,
        None => {
            let path = deployment_path(dir);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                anyhow::anyhow!(
                    "{}: {e} (run `zkinfer deploy` or pass --address)",
                    path.display()
                )
            })?;
            let dep: serde_json::Value = serde_json::from_str(&text)?;
            dep["verifier"]["address"]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("{}: no verifier address", path.display()))?
                .parse()?
        }
    };
    let mut node = Node::new(rpc_url)?;
    if let Some(k) = key {
        node = node.with_key(k)?;
    }
    let (bytes, instances) = (p.bytes()?, p.instances());
    let out = if key.is_some() {
        node.verify_tx(address, &bytes, &instances)?
    } else {
        node.verify(address, &bytes, &instances)?
    };
    let mut value = serde_json::to_value(&out)?;
    value["address"] = json!(address);
    value["insecure_srs"] = json!(insecure);
    Ok((if out.verified { 0 } else { 1 }, value))
}

/// Reads `proof`, refusing one made for other settings than the compiled model in `dir`.
fn proof_for(dir: &Path, proof: &Path) -> Result<zkinfer::Proof> {
    let settings = ModelDir::new(dir)?.settings()?;
    let p = read_proof(proof)?;
    if p.settings_hash != settings.hash() {
        anyhow::bail!(
            "proof made for settings {}, {} holds {}",
            p.settings_hash,
            dir.display(),
            settings.hash()
        );
    }
    Ok(p)
}
