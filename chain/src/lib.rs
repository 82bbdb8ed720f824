#![doc = include_str!("../README.md")]

mod error;
mod node;

pub use error::ChainError;
pub use node::{Deployed, Deployment, Node, NodeOutcome};

/// A 20-byte account address.
pub use alloy::primitives::Address;
