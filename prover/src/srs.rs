//! Structured reference strings: a deterministic development setup (insecure: anyone can
//! recompute its toxic waste from the public seed), a Powers-of-Tau ceremony file imported by
//! [`Srs::from_ptau`], and SRS files written by [`Srs::save`].
//!
//! An SRS file is an artifact (`crate::artifact`: magic, kind `srs`, format version, the
//! origin as its label, a SHA-256 over origin and parameters), so a truncated or flipped
//! file, or an edited origin, is an error before the points are parsed. [`Srs::read`] also
//! takes the raw parameters other halo2 tools write (their size checked against their `k`,
//! every point checked on the curve), of unknown origin. Whatever a file says, a development
//! SRS is recognised from its points ([`is_dev_params`]).

use crate::error::{io_err, ProverError, Result};
use halo2_axiom::halo2curves::bn256::Bn256;
use halo2_axiom::poly::commitment::Params;
use halo2_axiom::poly::kzg::commitment::ParamsKZG;
use halo2_axiom::SerdeFormat;
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

/// The largest parameters read: `2^MAX_K` points (the dev SRS is recognised up to
/// [`DEV_MAX_K`] too).
const MAX_K: u32 = DEV_MAX_K;
/// Bytes of a G1 and a G2 point in the raw format.
const G1_RAW: u64 = 64;
const G2_RAW: u64 = 128;

/// Bytes of raw parameters of `2^k` points: `k`, `g` and its Lagrange form, `g2`, `[τ]g2`.
fn raw_len(k: u32) -> u64 {
    4 + 2 * G1_RAW * (1u64 << k) + 2 * G2_RAW
}

/// Parses raw parameters (`ParamsKZG::write_custom`), checking the size against their `k`
/// before anything is allocated; `checked` also checks every point (files of unknown origin;
/// a checksummed artifact skips it).
fn parse_params(bytes: &[u8], path: &Path, checked: bool) -> Result<ParamsKZG<Bn256>> {
    let bad = |reason: String| ProverError::BadArtifact {
        path: path.display().to_string(),
        kind: "srs",
        reason,
    };
    let Some(head) = bytes.get(..4) else {
        return Err(bad(format!("{} bytes: not an SRS file", bytes.len())));
    };
    let k = u32::from_le_bytes(head.try_into().expect("4 bytes"));
    if k > MAX_K {
        return Err(bad(format!(
            "starts with k = {k} (at most {MAX_K}): not an SRS file"
        )));
    }
    if bytes.len() as u64 != raw_len(k) {
        return Err(bad(format!(
            "{} bytes, parameters of 2^{k} points take {} (truncated, or not an SRS file)",
            bytes.len(),
            raw_len(k)
        )));
    }
    if checked {
        // Every point canonical and on its curve (the raw format's own reader checks only
        // the coordinates), in parallel.
        use halo2_axiom::halo2curves::bn256::{G1Affine, G2Affine};
        use halo2_axiom::halo2curves::serde::SerdeObject;
        use rayon::prelude::*;
        let g1_end = 4 + (2 * G1_RAW * (1u64 << k)) as usize;
        let bad_g1 = bytes[4..g1_end]
            .par_chunks(G1_RAW as usize)
            .position_any(|c| G1Affine::from_raw_bytes(c).is_none());
        let bad_g2 = bytes[g1_end..]
            .chunks(G2_RAW as usize)
            .position(|c| G2Affine::from_raw_bytes(c).is_none());
        if let Some(i) = bad_g1 {
            return Err(bad(format!("G1 point {i} is not on the curve")));
        }
        if let Some(i) = bad_g2 {
            return Err(bad(format!("G2 point {i} is not on the curve")));
        }
    }
    ParamsKZG::<Bn256>::read_custom(&mut &bytes[..], SerdeFormat::RawBytesUnchecked)
        .map_err(|e| bad(format!("invalid point: {e}")))
}

impl Srs {
    /// The development SRS for `2^k` rows, generated from [`DEV_SEED`] and cached in `cache`.
    /// A cached file that fails its checks (corrupt, or not the development SRS) is made
    /// again.
    pub fn dev(k: u32, cache: &Path) -> Result<Self> {
        let path = cache.join(format!("dev-srs-k{k}.params"));
        if path.exists() {
            match Self::read(&path, k) {
                Ok(srs) if srs.origin.is_insecure() && srs.params.k() == k => return Ok(srs),
                _ => {}
            }
        }
        let srs = Self {
            params: crate::dev_srs::setup(k, dev_rng(k)),
            origin: SrsOrigin::DevInsecure {
                seed: DEV_SEED.into(),
            },
        };
        std::fs::create_dir_all(cache).map_err(io_err(cache))?;
        srs.save(&path)?;
        Ok(srs)
    }

    /// Reads an SRS file, downsized to `2^k` rows: an SRS artifact ([`Srs::save`]), with the
    /// origin it records; a snarkjs `.ptau` file ([`Srs::from_ptau`]); or raw halo2
    /// parameters, of origin [`SrsOrigin::File`]. A development SRS is
    /// [`SrsOrigin::DevInsecure`] whatever the file says. Any other file is a clear error.
    pub fn read(path: &Path, k: u32) -> Result<Self> {
        if crate::ptau::is_ptau(path) {
            return Self::from_ptau(path, k);
        }
        let bytes = crate::artifact::read_file(path, 64 + 4096 + raw_len(MAX_K))?;
        let (mut params, origin) = if crate::artifact::is_artifact(&bytes) {
            let (label, payload) = crate::artifact::parse(&bytes, path, "srs")?;
            let origin: SrsOrigin =
                serde_json::from_str(&label).map_err(|e| ProverError::BadArtifact {
                    path: path.display().to_string(),
                    kind: "srs",
                    reason: format!("origin: {e}"),
                })?;
            (parse_params(payload, path, false)?, origin)
        } else {
            let sha256 = hex::encode(Sha256::digest(&bytes));
            (
                parse_params(&bytes, path, true)?,
                SrsOrigin::File { sha256 },
            )
        };
        if params.k() < k {
            return Err(ProverError::SrsTooSmall {
                have: params.k(),
                need: k,
            });
        }
        if params.k() > k {
            params.downsize(k);
        }
        let origin = if is_dev_params(&params) {
            SrsOrigin::DevInsecure {
                seed: DEV_SEED.into(),
            }
        } else {
            origin
        };
        Ok(Self { params, origin })
    }

    /// Writes the parameters with their origin as an SRS artifact ([`Srs::read`] reads it).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut bytes = Vec::new();
        self.params
            .write_custom(&mut bytes, SerdeFormat::RawBytesUnchecked)
            .map_err(io_err(path))?;
        let origin = serde_json::to_string(&self.origin).expect("an origin serializes");
        crate::artifact::write(path, "srs", &origin, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ceremony() -> SrsOrigin {
        SrsOrigin::Ceremony {
            file: "p.ptau".into(),
            sha256: "00".into(),
            power: 5,
            ceremony_power: 5,
            contributions: 1,
        }
    }

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
        // A copy saved as a ceremony's, or as raw parameters, is still the development SRS.
        let path = tmp.path().join("copy.params");
        Srs {
            params: dev.params.clone(),
            origin: ceremony(),
        }
        .save(&path)
        .unwrap();
        assert!(Srs::read(&path, 4).unwrap().origin.is_insecure());
        let mut raw = Vec::new();
        dev.params
            .write_custom(&mut raw, SerdeFormat::RawBytesUnchecked)
            .unwrap();
        std::fs::write(&path, raw).unwrap();
        assert!(Srs::read(&path, 4).unwrap().origin.is_insecure());
    }

    #[test]
    fn saved_params_keep_their_origin_and_any_change_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("srs.params");
        // Not the development SRS (that is recognised whatever its file says).
        let srs = Srs {
            params: ParamsKZG::<Bn256>::setup(3, ChaCha20Rng::seed_from_u64(3)),
            origin: ceremony(),
        };
        srs.save(&path).unwrap();
        let back = Srs::read(&path, 2).unwrap();
        assert_eq!(back.origin, ceremony());
        assert_eq!(back.params.k(), 2);
        let bytes = std::fs::read(&path).unwrap();
        // The origin rewritten, a flipped byte anywhere, a truncation: refused.
        let text = String::from_utf8_lossy(&bytes).replace("ceremony", "ceremonx");
        std::fs::write(&path, text.as_bytes()).unwrap();
        assert!(matches!(
            Srs::read(&path, 2),
            Err(ProverError::BadArtifact { .. })
        ));
        for at in [9, 30, bytes.len() / 2, bytes.len() - 1] {
            let mut b = bytes.clone();
            b[at] ^= 0x10;
            std::fs::write(&path, &b).unwrap();
            assert!(
                matches!(Srs::read(&path, 2), Err(ProverError::BadArtifact { .. })),
                "{at}"
            );
        }
        std::fs::write(&path, &bytes[..bytes.len() - 7]).unwrap();
        assert!(matches!(
            Srs::read(&path, 2),
            Err(ProverError::BadArtifact { .. })
        ));
    }

    #[test]
    fn foreign_files_are_clear_errors_never_panics() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x");
        let raw = {
            let p = ParamsKZG::<Bn256>::setup(2, ChaCha20Rng::seed_from_u64(9));
            let mut v = Vec::new();
            p.write_custom(&mut v, SerdeFormat::RawBytesUnchecked)
                .unwrap();
            v
        };
        let mut off_curve = raw.clone();
        off_curve[4 + 64 + 3] ^= 1;
        for (what, bytes) in [
            ("json", br#"{"format_version": 4}"#.to_vec()),
            ("empty", vec![]),
            ("huge k", vec![0xff; 64]),
            ("truncated", raw[..raw.len() - 1].to_vec()),
            ("a point off the curve", off_curve),
        ] {
            std::fs::write(&path, &bytes).unwrap();
            let err = Srs::read(&path, 2).map(|_| ()).unwrap_err();
            assert!(
                matches!(err, ProverError::BadArtifact { .. }),
                "{what}: {err}"
            );
        }
        // Raw parameters of unknown origin are read, and say so.
        std::fs::write(&path, &raw).unwrap();
        assert!(matches!(
            Srs::read(&path, 2).unwrap().origin,
            SrsOrigin::File { .. }
        ));
    }

    #[test]
    fn a_corrupt_cached_dev_srs_is_made_again() {
        let tmp = tempfile::tempdir().unwrap();
        let first = Srs::dev(4, tmp.path()).unwrap();
        let path = tmp.path().join("dev-srs-k4.params");
        let mut b = std::fs::read(&path).unwrap();
        let at = b.len() / 2;
        b[at] ^= 1;
        std::fs::write(&path, &b).unwrap();
        let again = Srs::dev(4, tmp.path()).unwrap();
        assert_eq!(again.params.s_g2(), first.params.s_g2());
        assert!(Srs::read(&path, 4).is_ok());
    }
}
