//! Shared by the tests of circuits other than zkinfer's: prove one, generate and compile its
//! verifier, and run it in revm.
#![allow(dead_code)] // each test binary uses part of it

use halo2_axiom::halo2curves::bn256::{Bn256, Fr};
use halo2_axiom::plonk::{create_proof, keygen_pk, keygen_vk, Circuit, ConstraintSystem};
use halo2_axiom::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_axiom::poly::kzg::multiopen::ProverSHPLONK;
use halo2_axiom::transcript::TranscriptWriterBuffer;
use rand::SeedableRng;
use zkinfer_prover::transcript::{EvmChallenge, EvmTranscript};
use zkinfer_verifier_contracts::{
    deploy_and_verify, generate, solc, Chain, Compiled, Generated, CONTRACT,
};

/// A proof of a circuit and its compiled verifier.
pub struct EvmRun {
    /// The SRS it was proven with.
    pub params: ParamsKZG<Bn256>,
    /// The proof (EVM transcript).
    pub proof: Vec<u8>,
    /// The generated verifier.
    pub generated: Generated,
    /// The verifier, compiled.
    pub compiled: Compiled,
    /// The key's constraint system (selectors compressed into fixed columns).
    pub cs: ConstraintSystem<Fr>,
    /// Gas of the valid proof's `verifyProof` transaction.
    pub gas: u64,
}

/// Proves `circuit` at `2^k` rows (fixed seeds), checks the proof natively, generates and
/// compiles its verifier, and asserts that revm accepts the proof.
pub fn prove_and_run<C: Circuit<Fr, Params = ()>>(k: u32, circuit: C, instances: &[Fr]) -> EvmRun {
    let params = ParamsKZG::<Bn256>::setup(k, rand_chacha::ChaCha20Rng::seed_from_u64(1));
    let vk = keygen_vk(&params, &circuit).unwrap();
    let pk = keygen_pk(&params, vk, &circuit).unwrap();
    let mut t = EvmTranscript::new(vec![]);
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, EvmChallenge, _, _, _>(
        &params,
        &pk,
        &[circuit],
        &[&[instances]],
        rand_chacha::ChaCha20Rng::seed_from_u64(2),
        &mut t,
    )
    .unwrap();
    let proof = t.finalize();
    zkinfer_prover::verify(&params, pk.get_vk(), &proof, instances, instances.len()).unwrap();
    let generated = generate(&params, pk.get_vk(), instances.len(), false, "test params").unwrap();
    let compiled = solc::compile(&generated.solidity, CONTRACT).unwrap();
    let out =
        deploy_and_verify(&mut Chain::new(), &generated, &compiled, &proof, instances).unwrap();
    assert!(out.verified, "{out:?}");
    EvmRun {
        params,
        proof,
        generated,
        compiled,
        cs: pk.get_vk().cs().clone(),
        gas: out.gas,
    }
}

/// Asserts that revm rejects `run`'s proof for `instances` (`false`, not a halt).
pub fn assert_rejected(run: &EvmRun, instances: &[Fr]) {
    let out = deploy_and_verify(
        &mut Chain::new(),
        &run.generated,
        &run.compiled,
        &run.proof,
        instances,
    )
    .unwrap();
    assert!(!out.verified && !out.halted, "{out:?}");
}
