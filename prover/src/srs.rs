//! Structured reference strings: a deterministic development setup (insecure: anyone can
//! recompute its toxic waste from the public seed), a Powers-of-Tau ceremony file imported by
//! [`Srs::from_ptau`], and params files written by [`Srs::save`] or [`write_params`].
//!
//! [`Srs::save`] writes, beside the params file, a sidecar `<file>.origin.json` holding the
//! origin and the params' SHA-256, so that params imported from a ceremony still say so when
//! [`Srs::read`] loads them later.

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
    /// Read from a params file of unknown origin.
    File {
        /// SHA-256 of the file.
        sha256: String,
    },
    /// Imported from a snarkjs Powers-of-Tau ceremony file (`.ptau`).
    Ceremony {
        /// Name of the `.ptau` file.
        file: String,
        /// SHA-256 of the `.ptau` file.
        sha256: String,
        /// The file held `2^power` powers.
        power: u32,
        /// Power of the ceremony it came from.
        ceremony_power: u32,
        /// Contributions recorded in the file.
        contributions: u32,
    },
}

/// The sidecar [`Srs::save`] writes beside a params file.
#[derive(Serialize, Deserialize)]
struct Sidecar {
    origin: SrsOrigin,
    params_sha256: String,
}

fn sidecar_path(params: &Path) -> PathBuf {
    let mut name = params.as_os_str().to_owned();
    name.push(".origin.json");
    PathBuf::from(name)
}

impl SrsOrigin {
    /// Whether proofs under this SRS can be forged by anyone who knows the seed.
    pub fn is_insecure(&self) -> bool {
        matches!(self, SrsOrigin::DevInsecure { .. })
    }
}

impl SrsOrigin {
    /// One line saying where the parameters came from and whether to trust them.
    pub fn describe(&self) -> String {
        match self {
            SrsOrigin::DevInsecure { seed } => format!(
                "development SRS derived from the public seed \"{seed}\": INSECURE, anyone can \
                 forge proofs; for testing only"
            ),
            SrsOrigin::File { sha256 } => {
                format!("params file of unknown origin (SHA-256 {sha256})")
            }
            SrsOrigin::Ceremony {
                file,
                sha256,
                power,
                ceremony_power,
                contributions,
            } => format!(
                "Powers-of-Tau ceremony file {file} (SHA-256 {sha256}; 2^{power} of its \
                 2^{ceremony_power} powers; {contributions} contributions)"
            ),
        }
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

pub(crate) fn dev_rng(k: u32) -> ChaCha20Rng {
    let seed: [u8; 32] = Sha256::digest(format!("{DEV_SEED} k={k}")).into();
    ChaCha20Rng::from_seed(seed)
}

/// Largest size at which a development SRS is recognised ([`is_dev_params`]).
const DEV_MAX_K: u32 = 28;

/// Whether `params` are a development SRS, of any size and downsized or not: their `[τ]G2`
/// is that of the development SRS generated for some `2^k` rows, whose `τ` anyone can
/// recompute from [`DEV_SEED`]. This reads the parameters themselves, never a label.
pub fn is_dev_params(params: &ParamsKZG<Bn256>) -> bool {
    use halo2_axiom::halo2curves::bn256::{Fr, G2Affine};
    use halo2_axiom::halo2curves::ff::Field;
    let s_g2 = params.s_g2();
    (0..=DEV_MAX_K).any(|k| G2Affine::from(params.g2() * Fr::random(dev_rng(k))) == s_g2)
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
        let params = crate::dev_srs::setup(k, dev_rng(k));
        std::fs::create_dir_all(cache).map_err(io_err(cache))?;
        // A name of this writer's own: threads of one process may generate the same size
        // at once (the last rename wins; both files are identical).
        static WRITERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = WRITERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(io_err(&tmp))?);
        params.write(&mut f).map_err(io_err(&tmp))?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
        Ok(Self { params, origin })
    }

    /// Reads a params file, downsized to `2^k` rows, with the origin its sidecar records
    /// (else [`SrsOrigin::File`]). A `.ptau` file is imported with [`Srs::from_ptau`].
    pub fn read(path: &Path, k: u32) -> Result<Self> {
        if crate::ptau::is_ptau(path) {
            return Self::from_ptau(path, k);
        }
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
        if is_dev_params(&params) {
            let origin = SrsOrigin::DevInsecure {
                seed: DEV_SEED.into(),
            };
            return Ok(Self { params, origin });
        }
        let origin = match read_sidecar(path)? {
            Some(side) if side.params_sha256 == sha256 => side.origin,
            Some(_) => {
                return Err(ProverError::BadArtifact {
                    path: sidecar_path(path).display().to_string(),
                    kind: "params origin",
                    reason: "it describes another params file (SHA-256 differs)".into(),
                })
            }
            None => SrsOrigin::File { sha256 },
        };
        Ok(Self { params, origin })
    }

    /// Writes the parameters to `path` and their origin to the sidecar beside it.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut bytes = Vec::new();
        write_params(self, &mut bytes).map_err(io_err(path))?;
        std::fs::write(path, &bytes).map_err(io_err(path))?;
        let side = Sidecar {
            origin: self.origin.clone(),
            params_sha256: hex::encode(Sha256::digest(&bytes)),
        };
        let json = serde_json::to_string_pretty(&side).expect("sidecar serializes");
        let sp = sidecar_path(path);
        std::fs::write(&sp, json).map_err(io_err(&sp))
    }
}

fn read_sidecar(params: &Path) -> Result<Option<Sidecar>> {
    let sp = sidecar_path(params);
    if !sp.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&sp).map_err(io_err(&sp))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| ProverError::BadArtifact {
            path: sp.display().to_string(),
            kind: "params origin",
            reason: e.to_string(),
        })
}

/// Writes the parameters of `srs` (the format [`Srs::read`] reads).
pub fn write_params(srs: &Srs, w: &mut impl std::io::Write) -> std::io::Result<()> {
    srs.params.write(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dev_srs_is_recognised_from_its_points_whatever_its_label() {
        let tmp = tempfile::tempdir().unwrap();
        let dev = Srs::dev(5, tmp.path()).unwrap();
        assert!(is_dev_params(&dev.params));
        let mut small = dev.params.clone();
        small.downsize(3);
        assert!(is_dev_params(&small));
        let other = ParamsKZG::<Bn256>::setup(5, ChaCha20Rng::seed_from_u64(7));
        assert!(!is_dev_params(&other));
        // A copy that claims to come from a ceremony is still the development SRS.
        let path = tmp.path().join("copy.params");
        Srs {
            params: dev.params.clone(),
            origin: SrsOrigin::Ceremony {
                file: "p.ptau".into(),
                sha256: "00".into(),
                power: 5,
                ceremony_power: 5,
                contributions: 1,
            },
        }
        .save(&path)
        .unwrap();
        assert!(Srs::read(&path, 4).unwrap().origin.is_insecure());
        std::fs::remove_file(sidecar_path(&path)).unwrap();
        assert!(Srs::read(&path, 4).unwrap().origin.is_insecure());
    }

    #[test]
    fn saved_params_keep_their_origin_and_a_stale_sidecar_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("srs.params");
        let origin = SrsOrigin::Ceremony {
            file: "x.ptau".into(),
            sha256: "00".into(),
            power: 3,
            ceremony_power: 3,
            contributions: 1,
        };
        // Not the development SRS (that is recognised whatever its sidecar says).
        let srs = Srs {
            params: ParamsKZG::<Bn256>::setup(3, ChaCha20Rng::seed_from_u64(3)),
            origin: origin.clone(),
        };
        srs.save(&path).unwrap();
        let back = Srs::read(&path, 2).unwrap();
        assert_eq!(back.origin, origin);
        assert_eq!(back.params.k(), 2);

        // Other params under the same name: the sidecar no longer describes them.
        let other = Srs {
            params: ParamsKZG::<Bn256>::setup(2, ChaCha20Rng::seed_from_u64(4)),
            origin: SrsOrigin::File {
                sha256: "00".into(),
            },
        };
        let mut f = std::fs::File::create(&path).unwrap();
        write_params(&other, &mut f).unwrap();
        drop(f);
        assert!(matches!(
            Srs::read(&path, 2),
            Err(ProverError::BadArtifact {
                kind: "params origin",
                ..
            })
        ));
        std::fs::remove_file(sidecar_path(&path)).unwrap();
        assert!(matches!(
            Srs::read(&path, 2).unwrap().origin,
            SrsOrigin::File { .. }
        ));
    }
}
