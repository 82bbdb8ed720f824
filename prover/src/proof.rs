//! Proving and verification: PLONK over KZG on BN254 with the SHPLONK multi-opening and a
//! Keccak-256 transcript whose encoding the generated EVM verifier reads
//! ([`crate::transcript`]).

use crate::error::{ProverError, Result};
use crate::srs::Srs;
use crate::transcript::{EvmChallenge, EvmTranscript};
use halo2_axiom::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_axiom::plonk::{create_proof, verify_proof, ProvingKey, VerifyingKey};
use halo2_axiom::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_axiom::poly::kzg::multiopen::{ProverSHPLONK, VerifierSHPLONK};
use halo2_axiom::poly::kzg::strategy::SingleStrategy;
use halo2_axiom::transcript::TranscriptWriterBuffer;
use rand::rngs::OsRng;
use zkinfer_circuits::ModelCircuit;

/// Proves `circuit` (its own public instances) under `pk`.
pub fn prove(srs: &Srs, pk: &ProvingKey<G1Affine>, circuit: ModelCircuit) -> Result<Vec<u8>> {
    let instances = circuit.instances();
    let mut transcript = EvmTranscript::new(vec![]);
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, EvmChallenge, _, _, _>(
        &srs.params,
        pk,
        &[circuit],
        &[&[&instances]],
        OsRng,
        &mut transcript,
    )
    .map_err(|e| ProverError::Backend {
        stage: "prove",
        reason: format!("{e:?}"),
    })?;
    Ok(transcript.finalize())
}

/// Verifies `proof` against `vk` and the public `instances`, of which the circuit has
/// `expected` ([`zkinfer_circuits::Visibility::num_instances`]); `Err(Rejected)` if invalid,
/// including when the count differs or bytes follow the proof.
pub fn verify(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    proof: &[u8],
    instances: &[Fr],
    expected: usize,
) -> Result<()> {
    if instances.len() != expected {
        return Err(ProverError::Rejected {
            reason: format!(
                "the circuit has {expected} public instances, {} were given",
                instances.len()
            ),
        });
    }
    let mut transcript = EvmTranscript::new(proof);
    verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, EvmChallenge, _, _>(
        params,
        vk,
        SingleStrategy::new(params),
        &[&[instances]],
        &mut transcript,
    )
    .map_err(|e| ProverError::Rejected {
        reason: format!("{e:?}"),
    })?;
    if !transcript.is_exhausted() {
        return Err(ProverError::Rejected {
            reason: "trailing bytes after the proof".into(),
        });
    }
    Ok(())
}
