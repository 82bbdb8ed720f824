//! Errors of the prover.

use thiserror::Error;

/// Why a setup, proof or verification could not be carried out. A proof that does not
/// verify is [`ProverError::Rejected`], kept apart from I/O and format failures.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ProverError {
    /// File I/O failed.
    #[error("{path}: {source}")]
    Io {
        /// File concerned.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// An artifact is not what it claims to be (wrong magic, version, or truncated).
    #[error("{path}: not a valid {kind} artifact: {reason}")]
    BadArtifact {
        /// File concerned.
        path: String,
        /// Artifact kind (pk, vk, params).
        kind: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// An artifact belongs to another model or settings.
    #[error("{path}: {kind} was made for settings {found}, these settings are {expected}")]
    Mismatch {
        /// File concerned.
        path: String,
        /// Artifact kind.
        kind: &'static str,
        /// Hash the caller expects.
        expected: String,
        /// Hash recorded in the artifact.
        found: String,
    },
    /// The SRS has fewer powers than the circuit needs.
    #[error("SRS supports 2^{have} rows, the circuit needs 2^{need}")]
    SrsTooSmall {
        /// logrows of the SRS.
        have: u32,
        /// logrows needed.
        need: u32,
    },
    /// The proof does not verify against the verifying key and public instances.
    #[error("proof rejected: {reason}")]
    Rejected {
        /// What the verifier reported.
        reason: String,
    },
    /// halo2 failed while generating keys or a proof.
    #[error("halo2 backend failed during {stage}: {reason}")]
    Backend {
        /// keygen or prove.
        stage: &'static str,
        /// halo2's error.
        reason: String,
    },
    /// The circuit could not be built.
    #[error(transparent)]
    Circuit(#[from] zkinfer_circuits::CircuitError),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, ProverError>;

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> ProverError + '_ {
    move |source| ProverError::Io {
        path: path.display().to_string(),
        source,
    }
}
