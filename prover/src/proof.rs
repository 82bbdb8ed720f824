//! Proving and verification: PLONK over KZG on BN254 with the SHPLONK multi-opening and a
//! Keccak-256 transcript (the encoding an EVM verifier reads).

use crate::error::{ProverError, Result};
use crate::srs::Srs;
use halo2_axiom::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_axiom::plonk::{create_proof, verify_proof, ProvingKey, VerifyingKey};
use halo2_axiom::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_axiom::poly::kzg::multiopen::{ProverSHPLONK, VerifierSHPLONK};
use halo2_axiom::poly::kzg::strategy::SingleStrategy;
use halo2_axiom::transcript::{
    Challenge255, Keccak256Read, Keccak256Write, TranscriptReadBuffer, TranscriptWriterBuffer,
};
use rand::rngs::OsRng;
use zkinfer_circuits::ModelCircuit;

/// Proves `circuit` (its own public instances) under `pk`.
pub fn prove(srs: &Srs, pk: &ProvingKey<G1Affine>, circuit: ModelCircuit) -> Result<Vec<u8>> {
    let instances = circuit.instances();
    let mut transcript = Keccak256Write::<_, G1Affine, Challenge255<_>>::init(vec![]);
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
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

/// Verifies `proof` against `vk` and the public `instances`; `Err(Rejected)` if invalid.
pub fn verify(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    proof: &[u8],
    instances: &[Fr],
) -> Result<()> {
    let mut transcript = Keccak256Read::<_, G1Affine, Challenge255<_>>::init(proof);
    verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, _, _>(
        params,
        vk,
        SingleStrategy::new(params),
        &[&[instances]],
        &mut transcript,
    )
    .map_err(|e| ProverError::Rejected {
        reason: format!("{e:?}"),
    })
}
