//! Errors of verifier generation, compilation and EVM execution.

use std::path::{Path, PathBuf};
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
    /// solc-js is in none of the directories looked in ([`crate::solc::search_path`]).
    #[error("{}", solc_missing(searched, prefix, version))]
    SolcMissing {
        /// The `node_modules` directories looked in, in order.
        searched: Vec<PathBuf>,
        /// Where `npm install --prefix` should put it (in `prefix/node_modules`).
        prefix: PathBuf,
        /// The pinned solc-js version.
        version: String,
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
    /// File I/O failed.
    #[error("{path}: {source}")]
    Io {
        /// File concerned.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> EvmError + '_ {
    move |source| EvmError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The message of [`EvmError::SolcMissing`]: where it looked, and the one command to run.
fn solc_missing(searched: &[PathBuf], prefix: &Path, version: &str) -> String {
    let looked = searched
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let installed = prefix.join("node_modules");
    let then = if searched.contains(&installed) {
        String::new()
    } else {
        format!(
            ", then set {}={}",
            crate::solc::NODE_MODULES_VAR,
            installed.display()
        )
    };
    format!(
        "solc-js (the npm package `solc`) is not installed in {looked}: install it with \
         `npm install --prefix {} solc@{version}` (needs Node.js){then}",
        prefix.display()
    )
}
