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
    crate::check_cpu()?;
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
    crate::check_cpu()?;
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
        reason: rejection(&e),
    })?;
    if !transcript.is_exhausted() {
        return Err(ProverError::Rejected {
            reason: "the proof bytes go on after the proof ends (a padded proof, or one of \
                     another circuit)"
                .into(),
        });
    }
    Ok(())
}

/// Why halo2's verifier refused a proof, in words, with halo2's own text after them.
fn rejection(e: &halo2_axiom::plonk::Error) -> String {
    use halo2_axiom::plonk::Error as E;
    use std::io::ErrorKind;
    match e {
        E::ConstraintSystemFailure => "the proof does not satisfy the circuit's constraints for \
             these public values: the public outputs (or inputs) are not what the circuit \
             computes, or the proof bytes were altered or forged (the final pairing check \
             failed)"
            .into(),
        E::Opening => "the proof bytes are malformed: the opening proof at their end cannot \
             be read (a corrupted or truncated proof)"
            .into(),
        E::Transcript(io) if io.kind() == ErrorKind::UnexpectedEof => {
            format!("the proof bytes are truncated: they end before the proof does ({io})")
        }
        E::Transcript(io) => format!(
            "the proof bytes are malformed: {io} (a corrupted proof, or not a proof of this \
             circuit)"
        ),
        E::InvalidInstances | E::InstanceTooLarge => {
            format!("the public values do not fit the circuit ({e})")
        }
        other => format!("halo2's verifier refused the proof: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::rejection;
    use halo2_axiom::plonk::Error as E;
    use std::io::{Error, ErrorKind};

    #[test]
    fn rejections_are_worded_not_debug_text() {
        let cases = [
            (E::ConstraintSystemFailure, "constraints"),
            (E::Opening, "malformed"),
            (
                E::Transcript(Error::new(ErrorKind::InvalidData, "invalid point encoding")),
                "malformed: invalid point encoding",
            ),
            (
                E::Transcript(Error::new(ErrorKind::UnexpectedEof, "failed to fill")),
                "truncated",
            ),
            (E::InvalidInstances, "public values"),
        ];
        for (e, words) in cases {
            let r = rejection(&e);
            assert!(r.contains(words), "{e:?}: {r}");
            for debug in ["ConstraintSystemFailure", "Opening", "Custom {", "kind:"] {
                assert!(!r.contains(debug), "{e:?}: {r}");
            }
        }
    }
}
