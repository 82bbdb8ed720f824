//! The CLI's on-chain commands: `create-verifier`, `verify-evm`, `deploy`, `verify-onchain`,
//! `calldata`.

use anyhow::{Context, Result};
use serde_json::json;
use std::path::{Path, PathBuf};
use zkinfer::artifacts::{check_output_dir, read_proof, ModelDir};
use zkinfer::evm::{calldata, create_verifier, verify_evm_checked, write_verifier};
use zkinfer_chain::{Address, Node};

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
    let d = ModelDir::open(dir)?;
    let settings = d.settings()?;
    let (srs, vk) = d.verifier(&settings)?;
    let out: PathBuf = out.map_or_else(|| dir.join("evm"), Path::to_path_buf);
    check_output_dir(&out)?;
    let insecure = warn_if_insecure(dir, &srs);
    let v = create_verifier(&settings, &srs, &vk, self_contained)?;
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
    let d = ModelDir::open(dir)?;
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

fn address(text: &str, what: &str) -> Result<Address> {
    text.parse()
        .map_err(|e| anyhow::anyhow!("{what} {text}: not an address ({e})"))
}

/// `zkinfer deploy DIR --rpc-url URL [--verifier ADDR] [--allow-insecure-srs]`. Deploys the
/// key contract and a verifier, or with `verifier` only the key contract, for a verifier
/// already on chain (one serves every key of its circuit shape); appends the deployment,
/// bound to the settings and key, to `DIR/evm/deployment.json`. A directory set up with the
/// development SRS is refused unless `allow_insecure`, and even then on a chain that is not a
/// local node or a public test network (`zkinfer::evm::TEST_CHAINS`): a verifier under it
/// accepts proofs anyone can forge.
pub fn deploy(
    dir: &Path,
    rpc_url: &str,
    private_key: &str,
    verifier: Option<&str>,
    allow_insecure: bool,
) -> Result<serde_json::Value> {
    let d = ModelDir::open(dir)?;
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
    let node = Node::new(rpc_url)?.with_key(private_key)?;
    let verifier = verifier.map(|v| address(v, "--verifier")).transpose()?;
    let record = zkinfer::evm::deploy(&settings, (&srs, &vk), &node, verifier, allow_insecure)?;
    let path = d.record_deployment(record.clone())?;
    let mut value = serde_json::to_value(&record)?;
    value["insecure_srs"] = json!(insecure);
    value["written"] = json!(path);
    Ok(value)
}

/// `zkinfer verify-onchain DIR --proof PROOF.json --rpc-url URL [--address ADDR [--key
/// ADDR]]`, sent as a transaction when `private_key` is given: returns (exit code, report).
/// Without `--address`, the newest deployment of DIR's settings and key on that chain.
pub fn verify_onchain(
    dir: &Path,
    proof: &Path,
    rpc_url: &str,
    at: (Option<&str>, Option<&str>),
    private_key: Option<&str>,
) -> Result<(i32, serde_json::Value)> {
    let p = proof_for(dir, proof)?;
    let d = ModelDir::open(dir)?;
    let settings = d.settings()?;
    // The contracts on chain are checked against DIR's key before they are asked; warn when
    // that key was set up with the dev SRS.
    let (srs, vk) = d
        .verifier(&settings)
        .context("verify-onchain checks the contracts on chain against DIR's key")?;
    let insecure = warn_if_insecure(dir, &srs);
    let mut node = Node::new(rpc_url)?;
    if let Some(k) = private_key {
        node = node.with_key(k)?;
    }
    let (verifier, key) = match at {
        (Some(a), k) => (
            address(a, "--address")?,
            k.map(|k| address(k, "--key")).transpose()?,
        ),
        (None, Some(_)) => anyhow::bail!("--key needs --address (the verifier to call)"),
        (None, None) => {
            let chain_id = node.chain_id()?;
            let rec = d
                .deployment_for(chain_id, &settings.hash(), &zkinfer_prover::vk_hash(&vk))?
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "{} records no deployment of these settings and key on chain {chain_id} \
                         (compiled or set up again since the last deploy?): run `zkinfer \
                         deploy`, or pass --address",
                        d.deployment_path().display()
                    )
                })?;
            (
                address(&rec.verifier, "recorded verifier")?,
                rec.key
                    .as_deref()
                    .map(|k| address(k, "recorded key"))
                    .transpose()?,
            )
        }
    };
    zkinfer::evm::check_onchain(&settings, (&srs, &vk), &p, &node, (verifier, key))?;
    let (bytes, instances) = (p.bytes()?, p.instances());
    let out = if private_key.is_some() {
        node.verify_tx(verifier, key, &bytes, &instances)?
    } else {
        node.verify(verifier, key, &bytes, &instances)?
    };
    let mut value = serde_json::to_value(&out)?;
    value["address"] = json!(verifier);
    if let Some(k) = key {
        value["key"] = json!(k);
    }
    value["insecure_srs"] = json!(insecure);
    Ok((if out.verified { 0 } else { 1 }, value))
}

/// Reads `proof`, refusing one made for other settings than the compiled model in `dir`.
fn proof_for(dir: &Path, proof: &Path) -> Result<zkinfer::Proof> {
    let settings = ModelDir::open(dir)?.settings()?;
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
