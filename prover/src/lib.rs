//! Setup, key generation, proving and verification of zkinfer circuits (halo2-axiom, KZG on
//! BN254, SHPLONK, the
//! Keccak-256 [`transcript`] an EVM verifier reads), with versioned key files.

mod artifact;
mod cpu;
mod dev_srs;
mod error;
mod keys;
mod proof;
mod ptau;
mod srs;
pub mod transcript;

pub use cpu::check_cpu;
pub use error::{ProverError, PtauError, Result};
pub use keys::{keygen, read_pk, read_vk, vk_hash, write_pk, write_vk};
pub use proof::{prove, verify};
pub use ptau::{read_ptau_header, PtauHeader};
pub use srs::{default_cache_dir, is_dev_params, Srs, SrsOrigin, DEV_SEED};

/// Format version of every artifact this crate (and the facade) writes. Version 4: the public
/// rows read the instance column only where `public = 1` (keys of version 3 belong to the
/// old gate), and keys and SRS files share one container whose checksum covers the label
/// (a key's settings hash, an SRS's origin). Version 3 was the tall circuit layout.
pub const FORMAT_VERSION: u32 = 4;

pub use halo2_axiom::halo2curves::bn256::{Bn256, Fr, G1Affine};
pub use halo2_axiom::plonk::{ProvingKey, VerifyingKey};
