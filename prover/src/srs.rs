//! Structured reference strings: a deterministic development setup (insecure: anyone can
//! recompute its toxic waste from the public seed) and files written by `write`.

use crate::error::{io_err, ProverError, Result};
use halo2_axiom::halo2curves::bn256::Bn256;
use halo2_axiom::poly::commitment::Params;
use halo2_axiom::poly::kzg::commitment::ParamsKZG;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The public seed of the development SRS.
pub const DEV_SEED: &str = "zkinfer development SRS v1 (INSECURE)";

/// Where an SRS came from; recorded in every artifact it touches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SrsOrigin {
    /// Derived from [`DEV_SEED`]: **insecure**, for development only.
    DevInsecure {
        /// The seed.
        seed: String,
    },
    /// Read from a params file.
    File {
        /// SHA-256 of the file.
        sha256: String,
    },
}

impl SrsOrigin {
    /// Whether proofs under this SRS can be forged by anyone who knows the seed.
    pub fn is_insecure(&self) -> bool {
        matches!(self, SrsOrigin::DevInsecure { .. })
    }
}

/// KZG parameters and their origin.
#[derive(Clone, Debug)]
pub struct Srs {
    /// The parameters, sized to the circuit.
    pub params: ParamsKZG<Bn256>,
    /// Where they came from.
    pub origin: SrsOrigin,
}

/// The directory where development SRS files are cached: `$ZKINFER_CACHE`, else
/// `$HOME/.cache/zkinfer`, else the system temp dir.
pub fn default_cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("ZKINFER_CACHE") {
        return PathBuf::from(d);
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".cache").join("zkinfer"),
        None => std::env::temp_dir().join("zkinfer"),
    }
}

fn dev_rng(k: u32) -> ChaCha20Rng {
    let seed: [u8; 32] = Sha256::digest(format!("{DEV_SEED} k={k}")).into();
    ChaCha20Rng::from_seed(seed)
}

impl Srs {
    /// The development SRS for `2^k` rows, generated from [`DEV_SEED`] and cached in `cache`.
    pub fn dev(k: u32, cache: &Path) -> Result<Self> {
        let path = cache.join(format!("dev-srs-k{k}.params"));
        let origin = SrsOrigin::DevInsecure {
            seed: DEV_SEED.into(),
        };
        if path.exists() {
            if let Ok(srs) = Self::read(&path, k) {
                return Ok(Self { origin, ..srs });
            }
        }
        let params = ParamsKZG::<Bn256>::setup(k, dev_rng(k));
        std::fs::create_dir_all(cache).map_err(io_err(cache))?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(io_err(&tmp))?);
        params.write(&mut f).map_err(io_err(&tmp))?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
        Ok(Self { params, origin })
    }

    /// Reads a params file, downsized to `2^k` rows.
    pub fn read(path: &Path, k: u32) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(io_err(path))?;
        let mut params = ParamsKZG::<Bn256>::read(&mut bytes.as_slice()).map_err(|e| {
            ProverError::BadArtifact {
                path: path.display().to_string(),
                kind: "params",
                reason: e.to_string(),
            }
        })?;
        if params.k() < k {
            return Err(ProverError::SrsTooSmall {
                have: params.k(),
                need: k,
            });
        }
        if params.k() > k {
            params.downsize(k);
        }
        let sha256 = hex::encode(Sha256::digest(&bytes));
        Ok(Self {
            params,
            origin: SrsOrigin::File { sha256 },
        })
    }
}

/// Writes the parameters of `srs` (the format [`Srs::read`] reads).
pub fn write_params(srs: &Srs, w: &mut impl std::io::Write) -> std::io::Result<()> {
    srs.params.write(w)
}
