//! Solidity verifiers for zkinfer proofs, generated from the verifying key, compiled with
//! solc-js and executed in-process with revm.
//!
//! - [`plan`]: the verifier read generically from the halo2 constraint system;
//! - [`solidity`] and [`quotient`]: the Solidity (inline assembly) code generator;
//! - [`vk`]: the verifying key as a data blob (its own contract, or embedded);
//! - [`solc`]: compilation (solc-js from `npm ci`), EIP-170 checked;
//! - [`evm`]: deployment and calls in revm, with gas;
//! - [`abi`]: calldata of `verifyProof(bytes proof, uint256[] instances)`.
//!
//! Deployment and calls on a real chain over JSON-RPC are the crate `zkinfer-chain`, so that
//! a consumer of verifiers alone builds no RPC stack.
//!
//! Instances are the model's outputs (flattened, in order), then its public inputs, each a
//! field element (`r − |v|` for a negative `v`).

pub mod abi;
mod error;
pub mod evm;
pub mod plan;
pub mod quotient;
pub mod solc;
pub mod solidity;
pub mod vk;

pub use error::EvmError;
pub use evm::{Chain, EvmOutcome};
pub use solc::Compiled;

use halo2_axiom::halo2curves::bn256::{Bn256, Fr, G1Affine, G2Affine};
use halo2_axiom::plonk::VerifyingKey;
use halo2_axiom::poly::commitment::ParamsProver;
use halo2_axiom::poly::kzg::commitment::ParamsKZG;
use plan::Plan;
use solidity::VkSource;

/// Name of the generated contract.
pub const CONTRACT: &str = "Halo2Verifier";

/// A generated verifier: Solidity source and the verifying-key blob it reads.
#[derive(Clone, Debug)]
pub struct Generated {
    /// `Verifier.sol`.
    pub solidity: String,
    /// The verifying-key blob ([`vk`] layout).
    pub vk_blob: Vec<u8>,
    /// Init code of the VK contract (empty when the key is embedded).
    pub vk_deploy: Vec<u8>,
    /// Proof length the verifier expects.
    pub proof_len: usize,
}

/// Generates the verifier of `vk` (under `params`, for `num_instances` public values). With
/// `embed_vk`, a single self-contained contract; otherwise the verifier reads the key from
/// a VK contract whose address its constructor takes (and `verifyProof(address, …)` accepts
/// any key of the same circuit shape). `srs` says where `params` came from; the contract's
/// NatSpec repeats it.
pub fn generate(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    num_instances: usize,
    embed_vk: bool,
    srs: &str,
) -> Result<Generated, EvmError> {
    let plan = Plan::new(vk.cs(), vk.get_domain().get_quotient_poly_degree())?;
    if params.get_g()[0] != G1Affine::generator() || params.g2() != G2Affine::generator() {
        return Err(EvmError::Unsupported {
            feature: "an SRS whose [1]_1, [1]_2 are not the standard generators".into(),
        });
    }
    let blob = vk::blob(&plan, params, vk, num_instances);
    let source = if embed_vk {
        VkSource::Embedded(blob.clone())
    } else {
        VkSource::Contract
    };
    let solidity = solidity::generate(&plan, &source, &vk::shape_id(&plan), params.g2(), srs);
    Ok(Generated {
        solidity,
        vk_deploy: if embed_vk {
            vec![]
        } else {
            vk::deploy_code(&blob)
        },
        vk_blob: blob,
        proof_len: plan.proof_len(),
    })
}

/// Deploys a compiled verifier (and its VK contract when it has one) on `chain`, then calls
/// `verifyProof(proof, instances)`.
pub fn deploy_and_verify(
    chain: &mut Chain,
    generated: &Generated,
    compiled: &Compiled,
    proof: &[u8],
    instances: &[Fr],
) -> Result<EvmOutcome, EvmError> {
    let verifier = deploy(chain, generated, compiled)?;
    chain.call(verifier, abi::verify_calldata(proof, instances))
}

/// Deploys the verifier (after its VK contract, if any); returns the verifier's address.
pub fn deploy(
    chain: &mut Chain,
    generated: &Generated,
    compiled: &Compiled,
) -> Result<revm::primitives::Address, EvmError> {
    let mut init = compiled.bytecode.clone();
    if !generated.vk_deploy.is_empty() {
        let (vk_addr, _) = chain.deploy(generated.vk_deploy.clone())?;
        init.extend_from_slice(&abi::address_word(vk_addr.into_array()));
    }
    Ok(chain.deploy(init)?.0)
}
