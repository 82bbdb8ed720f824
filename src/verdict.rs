//! Verification, and what it returns: a [`Verdict`] that carries the values a proof proves
//! (the checked public instances, dequantized), kept apart from the errors that stop a check
//! from running at all.

use crate::error::{Error, Result};
use crate::pipeline::{Proof, Settings};
use crate::FORMAT_VERSION;
use zkinfer_prover::{G1Affine, ProverError, Srs, SrsOrigin, VerifyingKey};

/// What a proof proves, once checked: the only values a caller may show as verified.
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    /// The outputs, dequantized from the checked public instances.
    pub outputs: Vec<f64>,
    /// The checked public outputs (quantized integers, as the circuit holds them).
    pub public_outputs: Vec<i64>,
    /// The checked public inputs (quantized), when the settings make inputs public.
    pub public_inputs: Vec<i64>,
    /// The SRS the proof was checked under (a development SRS is recognised from its
    /// points: proofs under it can be forged by anyone).
    pub srs: SrsOrigin,
}

/// The outcome of checking a proof.
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a verdict may be a rejection"]
#[non_exhaustive]
pub enum Verdict {
    /// The proof holds.
    Verified(Verified),
    /// The proof does not hold, or was made for other settings, another key or another SRS.
    Rejected {
        /// Why, in words.
        reason: String,
    },
}

impl Verdict {
    /// Whether the proof holds.
    pub fn is_verified(&self) -> bool {
        matches!(self, Verdict::Verified(_))
    }

    /// The verified values, if the proof holds.
    pub fn verified(self) -> Option<Verified> {
        match self {
            Verdict::Verified(v) => Some(v),
            Verdict::Rejected { .. } => None,
        }
    }

    /// Why the proof was rejected, if it was.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Verdict::Verified(_) => None,
            Verdict::Rejected { reason } => Some(reason),
        }
    }
}

/// Checks `proof` against the settings, the SRS and the verifying key. A proof that does not
/// hold, or was made for other settings, another key or another SRS, is
/// [`Verdict::Rejected`]; `Err` only when the check cannot run (a proof whose bytes are not
/// hex, a backend failure).
pub fn verify(
    settings: &Settings,
    srs: &Srs,
    vk: &VerifyingKey<G1Affine>,
    proof: &Proof,
) -> Result<Verdict> {
    zkinfer_prover::check_cpu()?;
    if let Err(reason) = binding(settings, vk, proof) {
        return Ok(Verdict::Rejected { reason });
    }
    if proof.srs != srs.origin {
        return Ok(Verdict::Rejected {
            reason: format!(
                "the proof says it was made under {}, but the verifier's SRS is {}",
                proof.srs.describe(),
                srs.origin.describe()
            ),
        });
    }
    let expected = settings.num_instances();
    match zkinfer_prover::verify(
        &srs.params,
        vk,
        &proof.bytes()?,
        &proof.instances(),
        expected,
    ) {
        Ok(()) => Ok(Verdict::Verified(Verified {
            outputs: settings.dequantize_outputs(&proof.public_outputs),
            public_outputs: proof.public_outputs.clone(),
            public_inputs: proof.public_inputs.clone(),
            srs: srs.origin.clone(),
        })),
        Err(ProverError::Rejected { reason }) => Ok(Verdict::Rejected { reason }),
        Err(e) => Err(e.into()),
    }
}

/// Checks that `proof` was made for these settings and key, with as many public values as
/// they have; `Err(reason)` otherwise.
pub(crate) fn binding(
    settings: &Settings,
    vk: &VerifyingKey<G1Affine>,
    proof: &Proof,
) -> std::result::Result<(), String> {
    if proof.format_version != FORMAT_VERSION {
        return Err(format!(
            "the proof has format version {}, this build reads {FORMAT_VERSION}",
            proof.format_version
        ));
    }
    if proof.settings_hash != settings.hash() {
        return Err(format!(
            "the proof was made for settings {}, these are {}",
            proof.settings_hash,
            settings.hash()
        ));
    }
    let vk_hash = zkinfer_prover::vk_hash(vk);
    if proof.vk_hash != vk_hash {
        return Err(format!(
            "the proof was made for verifying key {}, this key is {vk_hash}",
            proof.vk_hash
        ));
    }
    let outputs_only = zkinfer_circuits::Visibility {
        public_input: false,
    };
    let n_out = outputs_only.num_instances(&settings.graph);
    let n_in = settings.num_instances() - n_out;
    if proof.public_outputs.len() != n_out || proof.public_inputs.len() != n_in {
        return Err(format!(
            "expected {n_out} public outputs and {n_in} public inputs, the proof has {} and {}",
            proof.public_outputs.len(),
            proof.public_inputs.len()
        ));
    }
    Ok(())
}

/// [`binding`] as the EVM path's error: a mismatched proof is a rejection.
pub(crate) fn check_binding(
    settings: &Settings,
    vk: &VerifyingKey<G1Affine>,
    proof: &Proof,
) -> Result<()> {
    binding(settings, vk, proof).map_err(|reason| Error::Prover(ProverError::Rejected { reason }))
}
