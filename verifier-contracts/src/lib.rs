//! Solidity verifier generation for zkinfer proofs.
//!
//! Not built yet: proofs already use the Keccak-256 transcript an EVM verifier reads
//! (see `zkinfer-prover`); the generator, solc-js compilation and the revm/anvil checks are
//! the on-chain verification issue.
