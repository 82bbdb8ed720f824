//! Errors of the JSON-RPC client.

use thiserror::Error;

/// Why a request to the node failed. A proof the verifier rejects is not an error: it is a
/// [`crate::NodeOutcome`] with `verified == false`.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ChainError {
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
}
