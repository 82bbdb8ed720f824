//! The on-chain path of a compiled model: generate and compile its Solidity verifier, run
//! it on a proof in an in-process EVM, and encode the `verifyProof` calldata.

use crate::artifacts::DeploymentRecord;
use crate::error::{io_err, Error, Result};
use crate::pipeline::{Proof, Settings};
use std::path::{Path, PathBuf};
use zkinfer_prover::{G1Affine, Srs, VerifyingKey};
use zkinfer_verifier_contracts::{abi, solc, Chain, CONTRACT};

pub use zkinfer_verifier_contracts::{Compiled, EvmOutcome, Generated};

/// A generated and compiled verifier.
#[derive(Clone, Debug)]
pub struct EvmVerifier {
    /// Source and verifying-key blob.
    pub generated: Generated,
    /// Bytecode and ABI of the verifier contract.
    pub compiled: Compiled,
}

/// Generates and compiles the verifier of `vk`; `embed_vk` makes one self-contained
/// contract instead of a verifier reading a VK contract.
pub fn create_verifier(
    settings: &Settings,
    srs: &Srs,
    vk: &VerifyingKey<G1Affine>,
    embed_vk: bool,
) -> Result<EvmVerifier> {
    let generated = zkinfer_verifier_contracts::generate(
        &srs.params,
        vk,
        settings.num_instances(),
        embed_vk,
        &srs.origin.describe(),
    )?;
    let compiled = solc::compile(&generated.solidity, CONTRACT)?;
    Ok(EvmVerifier {
        generated,
        compiled,
    })
}

/// Calldata of `verifyProof(proof, instances)` for `proof`.
pub fn calldata(proof: &Proof) -> Result<Vec<u8>> {
    Ok(abi::verify_calldata(&proof.bytes()?, &proof.instances()))
}

/// Deploys `verifier` in a fresh in-process EVM and calls `verifyProof` with raw bytes.
pub fn run_raw(
    verifier: &EvmVerifier,
    proof: &[u8],
    instances: &[zkinfer_prover::Fr],
) -> Result<EvmOutcome> {
    let mut chain = Chain::new();
    Ok(zkinfer_verifier_contracts::deploy_and_verify(
        &mut chain,
        &verifier.generated,
        &verifier.compiled,
        proof,
        instances,
    )?)
}

/// Deploys `verifier` in a fresh in-process EVM and verifies `proof` there.
pub fn verify_evm(verifier: &EvmVerifier, proof: &Proof) -> Result<EvmOutcome> {
    run_raw(verifier, &proof.bytes()?, &proof.instances())
}

/// Verifies `proof` in the EVM after checking it was made for `settings` and `vk`
/// (`Err(Mismatch)` otherwise); a rejected proof is `Ok` with `verified == false`.
pub fn verify_evm_checked(
    settings: &Settings,
    vk: &VerifyingKey<G1Affine>,
    verifier: &EvmVerifier,
    proof: &Proof,
) -> Result<EvmOutcome> {
    crate::verdict::check_binding(settings, vk, proof)?;
    verify_evm(verifier, proof)
}

/// Writes the verifier's files into `out`: `Verifier.sol`, `Verifier.abi.json`,
/// `Verifier.bytecode` and `Verifier.runtime` (hex), and for a verifier with a separate key
/// `VerifyingKey.bytecode` (hex init code of the VK contract) and `VerifyingKey.blob` (hex).
/// The verifier's constructor takes the VK contract's address.
pub fn write_verifier(out: &Path, verifier: &EvmVerifier) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let g = &verifier.generated;
    let c = &verifier.compiled;
    let abi = serde_json::to_string_pretty(&c.abi).expect("ABI serializes");
    let mut files: Vec<(&str, String)> = vec![
        ("Verifier.sol", g.solidity.clone()),
        ("Verifier.abi.json", abi),
        ("Verifier.bytecode", hex::encode(&c.bytecode)),
        ("Verifier.runtime", hex::encode(&c.runtime)),
    ];
    if !g.vk_deploy.is_empty() {
        files.push(("VerifyingKey.bytecode", hex::encode(&g.vk_deploy)));
        files.push(("VerifyingKey.blob", hex::encode(&g.vk_blob)));
    }
    let mut written = Vec::new();
    for (name, text) in files {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(io_err(&path))?;
        written.push(path);
    }
    Ok(written)
}

/// The chains where a verifier under the development SRS may be deployed when that is
/// asked for: local nodes and public test networks, whose coins are worthless. On any other
/// chain it is refused whatever is asked ([`Error::InsecureSrsOnChain`]).
pub const TEST_CHAINS: &[(u64, &str)] = &[
    (31337, "anvil, hardhat"),
    (1337, "geth --dev, ganache"),
    (11155111, "Sepolia"),
    (17000, "Holesky"),
    (560048, "Hoodi"),
    (84532, "Base Sepolia"),
    (11155420, "OP Sepolia"),
    (421614, "Arbitrum Sepolia"),
    (80002, "Polygon Amoy"),
];

/// Whether `chain_id` is one of the [`TEST_CHAINS`].
pub fn is_test_chain(chain_id: u64) -> bool {
    TEST_CHAINS.iter().any(|(id, _)| *id == chain_id)
}

/// [`Error::InsecureSrsOnChain`] for keys under the development SRS on a chain that is not
/// one of the [`TEST_CHAINS`].
fn refuse_insecure_on(srs: &Srs, chain_id: u64) -> Result<()> {
    if srs.origin.is_insecure() && !is_test_chain(chain_id) {
        return Err(Error::InsecureSrsOnChain { chain_id });
    }
    Ok(())
}

/// [`TEST_CHAINS`] as text, for messages: `31337 anvil, hardhat; 1337 …`.
pub fn test_chains_list() -> String {
    let items: Vec<String> = TEST_CHAINS
        .iter()
        .map(|(id, name)| format!("{id} {name}"))
        .collect();
    items.join("; ")
}

/// Deploys the verifier of `settings`' keys through `node` (which signs): the key contract
/// and a verifier, or, given the address of a verifier already on chain (one serves every
/// key of its circuit shape), only the key contract. Keys set up with the development SRS
/// are refused ([`Error::InsecureSrs`]) unless `allow_insecure_srs`, and even then on a
/// chain that is not one of the [`TEST_CHAINS`] ([`Error::InsecureSrsOnChain`]), before
/// anything is sent. Returns the record
/// that binds the deployment to the settings and key
/// ([`crate::artifacts::ModelDir::record_deployment`] keeps it).
pub fn deploy(
    settings: &Settings,
    (srs, vk): (&Srs, &VerifyingKey<G1Affine>),
    node: &zkinfer_chain::Node,
    verifier: Option<zkinfer_chain::Address>,
    allow_insecure_srs: bool,
) -> Result<DeploymentRecord> {
    if srs.origin.is_insecure() && !allow_insecure_srs {
        return Err(Error::InsecureSrs);
    }
    let chain_id = node.chain_id()?;
    refuse_insecure_on(srs, chain_id)?;
    let v = create_verifier(settings, srs, vk, false)?;
    let (verifier, key, transactions) = match verifier {
        Some(at) => {
            // Reused for this key: it must be the verifier reading a key contract.
            if default_key(&v.compiled, &deployed_code(node, chain_id, at)?).is_none() {
                return Err(not_ours(at, chain_id, VERIFIER));
            }
            let key = node.deploy_key(&v.generated)?;
            (at, Some(format!("{:#x}", key.address)), vec![key])
        }
        None => {
            let dep = node.deploy_verifier(&v.generated, &v.compiled)?;
            let at = dep.verifier.address;
            let txs = dep
                .verifying_key
                .into_iter()
                .chain([dep.verifier])
                .collect();
            (at, None, txs)
        }
    };
    Ok(DeploymentRecord {
        chain_id,
        settings_hash: settings.hash(),
        vk_hash: zkinfer_prover::vk_hash(vk),
        verifier: format!("{verifier:#x}"),
        key,
        transactions,
    })
}

const VERIFIER: &str = "the verifier of this circuit";
const KEY: &str = "this directory's verifying-key contract";
const EMBEDS_KEY: &str =
    "a verifier reading its key from a key contract (it is the one embedding this directory's key: call it without --key)";

/// Checks, before a verifier on chain is asked about `proof`, that the proof was made for
/// `settings` and `vk` (as [`verify_evm_checked`] does) and that the contracts a verdict
/// would come from are the ones generated from `vk`: the code at `verifier` is the compiled
/// verifier (its immutable key address aside), and the code of the key it is asked with
/// (`key`, or the verifier's default) is `0x00 ‖ blob` of `vk`; or, without `key`, the code
/// at `verifier` is the self-contained verifier embedding `vk`. A contract that merely
/// answers `true` is [`Error::NotOurContract`], an address without code
/// [`Error::NoContract`]; keys set up with the development SRS, on a chain that is not one
/// of the [`TEST_CHAINS`], are [`Error::InsecureSrsOnChain`].
pub fn check_onchain(
    settings: &Settings,
    (srs, vk): (&Srs, &VerifyingKey<G1Affine>),
    proof: &Proof,
    node: &zkinfer_chain::Node,
    (verifier, key): (zkinfer_chain::Address, Option<zkinfer_chain::Address>),
) -> Result<()> {
    crate::verdict::check_binding(settings, vk, proof)?;
    let chain_id = node.chain_id()?;
    refuse_insecure_on(srs, chain_id)?;
    let v = create_verifier(settings, srs, vk, false)?;
    let code = deployed_code(node, chain_id, verifier)?;
    let Some(default_key) = default_key(&v.compiled, &code) else {
        // Not the verifier reading a key contract: the self-contained one, embedding `vk`?
        let embedded = create_verifier(settings, srs, vk, true)?;
        return match (embedded.compiled.immutables_in(&code), key) {
            (Some(_), None) => Ok(()),
            (Some(_), Some(_)) => Err(not_ours(verifier, chain_id, EMBEDS_KEY)),
            (None, _) => Err(not_ours(verifier, chain_id, VERIFIER)),
        };
    };
    let key = key.unwrap_or(default_key);
    let runtime: Vec<u8> = [0u8].iter().chain(&v.generated.vk_blob).copied().collect();
    if deployed_code(node, chain_id, key)? != runtime {
        return Err(not_ours(key, chain_id, KEY));
    }
    Ok(())
}

/// The key address a verifier reading a key contract was deployed with, when `code` is that
/// verifier's: its one immutable (a 32-byte word) in every place the code reads it.
fn default_key(compiled: &Compiled, code: &[u8]) -> Option<zkinfer_chain::Address> {
    let immutables = compiled.immutables_in(code)?;
    match immutables.split_first() {
        Some((word, rest)) if word.len() == 32 && rest.iter().all(|w| w == word) => {
            Some(zkinfer_chain::Address::from_slice(&word[12..]))
        }
        _ => None,
    }
}

/// The code at `at`; an address without code is [`Error::NoContract`].
fn deployed_code(
    node: &zkinfer_chain::Node,
    chain_id: u64,
    at: zkinfer_chain::Address,
) -> Result<Vec<u8>> {
    let code = node.code(at)?;
    if code.is_empty() {
        return Err(Error::NoContract {
            address: format!("{at:#x}"),
            chain_id,
        });
    }
    Ok(code)
}

fn not_ours(at: zkinfer_chain::Address, chain_id: u64, expected: &'static str) -> Error {
    Error::NotOurContract {
        address: format!("{at:#x}"),
        chain_id,
        expected,
    }
}
