//! Errors of the facade.

use thiserror::Error;

/// Any failure of the zkinfer pipeline.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// Importing the ONNX model failed.
    #[error(transparent)]
    Import(#[from] zkinfer_onnx_import::ImportError),
    /// The quantized graph could not be evaluated or laid out.
    #[error(transparent)]
    Circuit(#[from] zkinfer_circuits::CircuitError),
    /// Setup, proving or verification failed (including a rejected proof).
    #[error(transparent)]
    Prover(#[from] zkinfer_prover::ProverError),
    /// Generating, compiling or running the EVM verifier failed (not a rejected proof).
    #[error(transparent)]
    Evm(#[from] zkinfer_verifier_contracts::EvmError),
    /// Talking to a chain failed: the endpoint, the signing key, a transaction.
    #[error(transparent)]
    Chain(#[from] zkinfer_chain::ChainError),
    /// A deployment under the development SRS, whose secret anyone can derive: refused
    /// unless asked for (a test chain).
    #[error(
        "the keys were set up with the development SRS: its secret comes from a public seed, \
         so anyone could forge proofs that the deployed verifier accepts; set them up with a \
         ceremony SRS, or allow the insecure SRS to deploy to a test chain anyway"
    )]
    InsecureSrs,
    /// A verifier under the development SRS, deployed (even when allowed) or asked on a chain
    /// that is not a local node or a public test network ([`crate::evm::TEST_CHAINS`]):
    /// refused.
    #[error(
        "the keys were set up with the development SRS, under which anyone can forge proofs: \
         chain {chain_id} is not a local node or a public test network ({}), where the \
         insecure SRS may be allowed; set the keys up with a ceremony SRS to deploy or verify \
         there",
        crate::evm::test_chains_list()
    )]
    InsecureSrsOnChain {
        /// The chain the node serves.
        chain_id: u64,
    },
    /// A verifier address where the chain holds no contract.
    #[error("{address}: no contract there on chain {chain_id}")]
    NoContract {
        /// The address given.
        address: String,
        /// The chain asked.
        chain_id: u64,
    },
    /// A contract on chain that is not the verifier (or the verifying-key contract) generated
    /// from the model directory's key: nothing it answered would be a verdict.
    #[error("{address} on chain {chain_id} is not {expected}: its code differs from the one generated from this directory's key")]
    NotOurContract {
        /// The address given or recorded.
        address: String,
        /// The chain asked.
        chain_id: u64,
        /// What was expected there.
        expected: &'static str,
    },
    /// A value of a float model's circuit, for this input, is beyond the range the circuit
    /// was sized for on its calibration samples (a table's or segments' input range, or the
    /// fixed-point interval).
    #[error(
        "{error}. The circuit was sized on its calibration samples and this input goes beyond \
         them: recalibrate on samples that cover inputs like it (`zkinfer calibrate MODEL \
         --data DIR`, then `zkinfer compile MODEL --calibrated calibration.json --out DIR`), \
         or widen the tables with `--range-margin M` (now {margin})"
    )]
    BeyondCalibration {
        /// The out-of-range value, its node and the range.
        error: Box<zkinfer_circuits::CircuitError>,
        /// The range margin the circuit was compiled with, in words.
        margin: String,
    },
    /// A JSON input, settings or proof file is malformed.
    #[error("{path}: {reason}")]
    BadFile {
        /// File concerned.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// An artifact belongs to other settings, model or version.
    #[error("{path}: {reason}")]
    Mismatch {
        /// File concerned.
        path: String,
        /// What does not match.
        reason: String,
    },
    /// The CUDA prover (the `zkinfer-cuda` child process) made no proof.
    #[error("{kind}: {detail}")]
    Cuda {
        /// What went wrong.
        kind: crate::backend::CudaFailure,
        /// Details: the binary, its exit status, its last words.
        detail: String,
    },
    /// A model directory a command reads is missing, or lacks what the command needs; the
    /// message says which command makes it. Nothing is created in its place.
    #[error("{}", problem.describe(dir))]
    ModelDir {
        /// The directory given.
        dir: String,
        /// What is missing.
        problem: crate::artifacts::DirProblem,
    },
    /// A file or directory a command is to write cannot be written there: checked before the
    /// work that produces it.
    #[error("{path}: {problem}")]
    Output {
        /// The output path given.
        path: String,
        /// Why it cannot be written.
        problem: crate::artifacts::OutputProblem,
    },
    /// File I/O failed. Its text already holds the I/O error's (which is also its
    /// [`source`](std::error::Error::source)): a printer of the whole chain shows each cause
    /// once by skipping a cause whose text is already shown.
    #[error("{path}: {source}")]
    Io {
        /// File concerned.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
}

/// Result alias of the facade.
pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.display().to_string(),
        source,
    }
}
