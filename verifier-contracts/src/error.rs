//! Errors of verifier generation, compilation and EVM execution.

use thiserror::Error;

/// Why a verifier could not be generated, compiled or run. A proof the contract rejects is
/// not an error: it is an [`crate::EvmOutcome`] with `verified == false`.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EvmError {
    /// The circuit uses a halo2 feature the generator does not support.
    #[error("the Solidity verifier does not support {feature}")]
    Unsupported {
        /// The feature.
        feature: String,
    },
    /// `node` could not be started.
    #[error("could not run `node` ({reason}); install Node.js to compile verifiers")]
    NodeMissing {
        /// The spawn error.
        reason: String,
    },
    /// solc-js is not installed in `verifier-contracts/node_modules`.
    #[error("solc-js not found under {dir}: run `npm ci` in verifier-contracts/")]
    SolcMissing {
        /// The `node_modules` directory looked at.
        dir: String,
    },
    /// solc reported errors.
    #[error("solc failed: {message}")]
    Compile {
        /// solc's formatted errors.
        message: String,
    },
    /// The runtime code exceeds the EIP-170 limit.
    #[error("runtime bytecode of {contract} is {size} bytes, over the EIP-170 limit of {limit}")]
    CodeTooLarge {
        /// Contract name.
        contract: String,
        /// Runtime size.
        size: usize,
        /// The limit (24,576).
        limit: usize,
    },
    /// The EVM failed (not a revert of the verifier: a database or setup failure).
    #[error("EVM {stage} failed: {reason}")]
    Evm {
        /// deploy or call.
        stage: &'static str,
        /// What revm reported.
        reason: String,
    },
    /// The JSON-RPC node could not be reached, or refused a request.
    #[error("node {url}: {reason}")]
    Node {
        /// The endpoint.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The private key is missing or malformed.
    #[error("private key: {reason}")]
    BadKey {
        /// What is wrong with it.
        reason: String,
    },
    /// File I/O failed.
    #[error("{path}: {source}")]
    Io {
        /// File concerned.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
}

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> EvmError + '_ {
    move |source| EvmError::Io {
        path: path.display().to_string(),
        source,
    }
}
