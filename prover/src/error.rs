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
    /// A Powers-of-Tau file could not be imported.
    #[error("{path}: {error}")]
    Ptau {
        /// File concerned.
        path: String,
        /// What is wrong with it.
        error: PtauError,
    },
    /// The circuit could not be built.
    #[error(transparent)]
    Circuit(#[from] zkinfer_circuits::CircuitError),
    /// This CPU lacks instructions the field arithmetic was compiled for ([`crate::check_cpu`]).
    #[error(
        "this CPU lacks {missing}, which this build's field arithmetic needs (x86_64 CPUs \
         since 2013-2015 have them); build without halo2-axiom's `asm` feature to run here"
    )]
    UnsupportedCpu {
        /// The missing extensions.
        missing: String,
    },
}

/// Why a snarkjs Powers-of-Tau (`.ptau`) file cannot serve as the SRS. Everything but
/// [`PtauError::WrongCurve`], [`PtauError::TooFewPowers`] and [`PtauError::NoContribution`]
/// means the file is damaged or not a `.ptau` file at all.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PtauError {
    /// The file does not start with the magic `ptau`.
    #[error("not a snarkjs .ptau file (magic {found:?}, expected \"ptau\")")]
    NotPtau {
        /// The first bytes of the file.
        found: String,
    },
    /// A format version this importer does not know.
    #[error("unsupported .ptau version {version} (this importer reads version 1)")]
    UnsupportedVersion {
        /// Version in the file.
        version: u32,
    },
    /// The file ends before the data it announces.
    #[error(
        "corrupt file: truncated ({what} needs bytes up to offset {needed}, the file has {len})"
    )]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Offset the data would end at.
        needed: u64,
        /// File length.
        len: u64,
    },
    /// A required section is missing or present twice.
    #[error("corrupt file: section {id} ({name}) appears {count} times, expected once")]
    Section {
        /// Section type id.
        id: u32,
        /// Its meaning.
        name: &'static str,
        /// How many times it appears.
        count: usize,
    },
    /// A section has the wrong length for the header's power.
    #[error("corrupt file: section {id} ({name}) has {found} bytes, expected {expected}")]
    SectionSize {
        /// Section type id.
        id: u32,
        /// Its meaning.
        name: &'static str,
        /// Length the header implies.
        expected: u64,
        /// Length in the file.
        found: u64,
    },
    /// The header's power is outside what BN254 supports (1..=28).
    #[error("corrupt file: header power {power} is outside 1..=28")]
    BadPower {
        /// Power in the header.
        power: u32,
    },
    /// The file is for another curve.
    #[error("wrong curve: this file is for {curve} (base field prime {prime}), zkinfer needs bn128 (BN254)")]
    WrongCurve {
        /// Name of the curve, where known.
        curve: &'static str,
        /// The prime in the header, hex.
        prime: String,
    },
    /// The file has fewer powers than the circuit needs.
    #[error("too few powers: file has 2^{have}, circuit needs 2^{need}")]
    TooFewPowers {
        /// Power of the file.
        have: u32,
        /// logrows needed.
        need: u32,
    },
    /// A point is not on BN254 (or, in G2, not in the prime-order subgroup).
    #[error("corrupt file: point {index} of {section} is not a valid BN254 point")]
    BadPoint {
        /// Section name.
        section: &'static str,
        /// Index of the point in it.
        index: u64,
    },
    /// The first power is not the standard generator.
    #[error("corrupt file: the first point of {section} is not the BN254 generator")]
    NotGenerator {
        /// Section name.
        section: &'static str,
    },
    /// tau = 1: a fresh `powersoftau new` file that nobody contributed to.
    #[error("the file has no contribution (tau = 1): use the output of a ceremony, not of `powersoftau new`")]
    NoContribution,
    /// A pairing check failed: the powers are not successive powers of one tau.
    #[error("corrupt file: {check} pairing check failed (the powers of tau are inconsistent)")]
    Inconsistent {
        /// Which check.
        check: &'static str,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, ProverError>;

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> ProverError + '_ {
    move |source| ProverError::Io {
        path: path.display().to_string(),
        source,
    }
}
