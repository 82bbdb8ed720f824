//! The on-chain path of a compiled model: generate and compile its Solidity verifier, run
//! it on a proof in an in-process EVM, and encode the `verifyProof` calldata.

use crate::error::Result;
use crate::pipeline::{Proof, Settings};
use zkinfer_prover::{G1Affine, Srs, VerifyingKey};
use zkinfer_verifier_contracts::{abi, solc, Chain, Compiled, Generated, CONTRACT};

pub use zkinfer_verifier_contracts::EvmOutcome;

/// Number of public instances of `settings`: outputs, then public inputs.
pub fn num_instances(settings: &Settings) -> usize {
    let g = &settings.graph;
    let outputs: usize = g
        .outputs
        .iter()
        .map(|o| g.shape(*o).iter().product::<usize>())
        .sum();
    let inputs: usize = if settings.visibility.public_input {
        g.inputs
            .iter()
            .map(|i| i.shape.iter().product::<usize>())
            .sum()
    } else {
        0
    };
    outputs + inputs
}

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
    let generated =
        zkinfer_verifier_contracts::generate(&srs.params, vk, num_instances(settings), embed_vk)?;
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
