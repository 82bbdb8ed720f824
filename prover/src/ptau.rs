//! Import of a Powers-of-Tau ceremony file in snarkjs's `.ptau` format (bn128) as KZG
//! parameters, truncated to the circuit's size.
//!
//! The format (snarkjs `powersoftau_new.js`, `@iden3/binfileutils`): the magic `ptau`, a
//! `u32` version (1) and a `u32` section count, then sections, each a `u32` type, a `u64`
//! length and the payload, in any order. Section 1 (header) holds `n8` (`u32`, 32 for bn128),
//! the base field prime (`n8` bytes, little-endian), `power` and `ceremonyPower` (`u32`).
//! Section 2 holds `2^(power+1) - 1` G1 points `[tau^i]G1`, section 3 `2^power` G2 points
//! `[tau^i]G2`, section 7 the contributions (a `u32` count first). A point is its affine
//! coordinates, little-endian in Montgomery form (`R = 2^256`), G2 coordinates as `c0, c1`;
//! the point at infinity is all zeros. That is exactly halo2curves' raw encoding, so points
//! are decoded with `SerdeObject::from_raw_bytes`, which rejects non-canonical coordinates and
//! points off the curve.
//!
//! Only the first `2^k` G1 powers and the first two G2 powers are read, so a large file costs
//! little more than a small one (apart from hashing it). Before they are accepted:
//! `[tau^0]` are the generators, `tau != 1`, `e([tau]G1, G2) = e(G1, [tau]G2)`, and a random
//! linear combination checks every successive pair at once (as snarkjs's own `verify` does,
//! "sameRatio"): with random `r_i`, `e(sum r_i [tau^i]G1, [tau]G2) = e(sum r_i [tau^(i+1)]G1,
//! G2)`, which a single wrong power fails except with probability about `1/|Fr|`.

use crate::error::{io_err, ProverError, PtauError, Result};
use crate::srs::{Srs, SrsOrigin};
use halo2_axiom::arithmetic::best_multiexp;
use halo2_axiom::halo2curves::bn256::{pairing, Bn256, Fr, G1Affine, G2Affine, G2};
use halo2_axiom::halo2curves::ff::Field;
use halo2_axiom::halo2curves::group::cofactor::CofactorGroup;
use halo2_axiom::halo2curves::group::prime::PrimeCurveAffine;
use halo2_axiom::halo2curves::group::Curve;
use halo2_axiom::halo2curves::serde::SerdeObject;
use halo2_axiom::poly::kzg::commitment::ParamsKZG;
use rand::rngs::OsRng;
use rand::SeedableRng;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Base field prime of BN254 (bn128), big-endian hex.
const BN254_Q: &str = "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47";
/// Base field prime of BLS12-381, big-endian hex, to name it in the wrong-curve error.
const BLS12_381_Q: &str = "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab";
/// Largest power BN254's scalar field supports (its 2-adicity).
const MAX_POWER: u32 = 28;
const G1_BYTES: u64 = 64;
const G2_BYTES: u64 = 128;

/// The header of a `.ptau` file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PtauHeader {
    /// The file holds `2^power` powers (and twice as many in G1).
    pub power: u32,
    /// Power of the ceremony the file comes from (it may have been truncated since).
    pub ceremony_power: u32,
    /// Number of contributions recorded in the file.
    pub contributions: u32,
}

/// Position and length of one section's payload.
#[derive(Clone, Copy, Debug)]
struct Section {
    pos: u64,
    len: u64,
}

struct Reader<'a> {
    file: File,
    len: u64,
    path: &'a Path,
    /// Section ids with their payloads, every occurrence, in file order.
    sections: Vec<(u32, Section)>,
}

impl Reader<'_> {
    fn err(&self, error: PtauError) -> ProverError {
        ProverError::Ptau {
            path: self.path.display().to_string(),
            error,
        }
    }

    /// Reads `n` bytes at `pos`, or a [`PtauError::Truncated`] naming `what`.
    fn read_at(&mut self, pos: u64, n: u64, what: &'static str) -> Result<Vec<u8>> {
        let end = pos.saturating_add(n);
        if end > self.len {
            return Err(self.err(PtauError::Truncated {
                what,
                needed: end,
                len: self.len,
            }));
        }
        let mut buf = vec![0u8; n as usize];
        self.file
            .seek(SeekFrom::Start(pos))
            .map_err(io_err(self.path))?;
        self.file.read_exact(&mut buf).map_err(io_err(self.path))?;
        Ok(buf)
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// Checks the file header and fills `r.sections`.
fn scan_sections(r: &mut Reader) -> Result<()> {
    let head = r.read_at(0, 12, "file header")?;
    if &head[..4] != b"ptau" {
        return Err(r.err(PtauError::NotPtau {
            found: String::from_utf8_lossy(&head[..4]).into_owned(),
        }));
    }
    let version = u32_at(&head, 4);
    if version != 1 {
        return Err(r.err(PtauError::UnsupportedVersion { version }));
    }
    let n_sections = u32_at(&head, 8);
    let mut pos = 12u64;
    for _ in 0..n_sections {
        let h = r.read_at(pos, 12, "section table")?;
        let id = u32_at(&h, 0);
        let len = u64::from_le_bytes(h[4..12].try_into().expect("8 bytes"));
        pos += 12;
        let end = pos.saturating_add(len);
        if end > r.len {
            return Err(r.err(PtauError::Truncated {
                what: "section",
                needed: end,
                len: r.len,
            }));
        }
        r.sections.push((id, Section { pos, len }));
        pos = end;
    }
    Ok(())
}

/// The one section `id`, or a [`PtauError::Section`].
fn unique(r: &Reader, id: u32, name: &'static str) -> Result<Section> {
    let found: Vec<Section> = r
        .sections
        .iter()
        .filter(|(i, _)| *i == id)
        .map(|(_, s)| *s)
        .collect();
    match found.as_slice() {
        [s] => Ok(*s),
        _ => Err(r.err(PtauError::Section {
            id,
            name,
            count: found.len(),
        })),
    }
}

fn le_to_hex(le: &[u8]) -> String {
    let be: Vec<u8> = le.iter().rev().copied().collect();
    format!("0x{}", hex::encode(be))
}

/// Parses and checks the header (section 1): the curve and the power.
fn read_header(r: &mut Reader, s: Section) -> Result<(u32, u32)> {
    if s.len < 4 || s.len > 1024 {
        return Err(r.err(PtauError::SectionSize {
            id: 1,
            name: "header",
            expected: 4 + 32 + 8,
            found: s.len,
        }));
    }
    let h = r.read_at(s.pos, s.len, "header")?;
    let n8 = u32_at(&h, 0) as u64;
    if s.len != 4 + n8 + 8 {
        return Err(r.err(PtauError::SectionSize {
            id: 1,
            name: "header",
            expected: 4 + n8 + 8,
            found: s.len,
        }));
    }
    let q = &h[4..4 + n8 as usize];
    let prime = le_to_hex(q);
    if prime[2..] != *BN254_Q {
        let curve = if prime[2..] == *BLS12_381_Q {
            "bls12-381"
        } else {
            "an unknown curve"
        };
        return Err(r.err(PtauError::WrongCurve { curve, prime }));
    }
    let power = u32_at(&h, 4 + n8 as usize);
    let ceremony_power = u32_at(&h, 8 + n8 as usize);
    if !(1..=MAX_POWER).contains(&power) {
        return Err(r.err(PtauError::BadPower { power }));
    }
    Ok((power, ceremony_power))
}

fn points<P: SerdeObject>(
    r: &Reader,
    bytes: &[u8],
    size: u64,
    section: &'static str,
) -> Result<Vec<P>> {
    bytes
        .chunks_exact(size as usize)
        .enumerate()
        .map(|(i, c)| {
            P::from_raw_bytes(c).ok_or_else(|| {
                r.err(PtauError::BadPoint {
                    section,
                    index: i as u64,
                })
            })
        })
        .collect()
}

/// The open file (sections scanned) and its checked header.
fn open(path: &Path) -> Result<(Reader<'_>, PtauHeader)> {
    let file = File::open(path).map_err(io_err(path))?;
    let len = file.metadata().map_err(io_err(path))?.len();
    let mut r = Reader {
        file,
        len,
        path,
        sections: Vec::new(),
    };
    scan_sections(&mut r)?;
    let head = unique(&r, 1, "header")?;
    let (power, ceremony_power) = read_header(&mut r, head)?;
    let n = 1u64 << power;
    for (id, name, expected) in [
        (2, "tauG1", (2 * n - 1) * G1_BYTES),
        (3, "tauG2", n * G2_BYTES),
    ] {
        let s = unique(&r, id, name)?;
        if s.len != expected {
            return Err(r.err(PtauError::SectionSize {
                id,
                name,
                expected,
                found: s.len,
            }));
        }
    }
    let contributions = match unique(&r, 7, "contributions") {
        Ok(s) if s.len >= 4 => u32_at(&r.read_at(s.pos, 4, "contributions")?, 0),
        _ => 0,
    };
    let header = PtauHeader {
        power,
        ceremony_power,
        contributions,
    };
    Ok((r, header))
}

/// Reads and checks the header of a `.ptau` file (curve, power, section sizes), without
/// reading its points.
pub fn read_ptau_header(path: &Path) -> Result<PtauHeader> {
    open(path).map(|(_, h)| h)
}

/// The checked powers `[tau^i]G1` (`i < 2^k`), `[tau]G2`, and the file's header.
fn read_powers(path: &Path, k: u32) -> Result<(Vec<G1Affine>, G2Affine, PtauHeader)> {
    let (mut r, header) = open(path)?;
    if k > header.power {
        return Err(r.err(PtauError::TooFewPowers {
            have: header.power,
            need: k,
        }));
    }
    // At least two powers, to check tau; truncated to 2^k afterwards.
    let m = (1u64 << k).max(2);
    let s2 = unique(&r, 2, "tauG1")?;
    let g1 = r.read_at(s2.pos, m * G1_BYTES, "tauG1")?;
    let g: Vec<G1Affine> = points(&r, &g1, G1_BYTES, "tauG1")?;
    let s3 = unique(&r, 3, "tauG2")?;
    let g2 = r.read_at(s3.pos, 2 * G2_BYTES, "tauG2")?;
    let h: Vec<G2Affine> = points(&r, &g2, G2_BYTES, "tauG2")?;
    if !bool::from(G2::from(h[1]).is_torsion_free()) {
        return Err(r.err(PtauError::BadPoint {
            section: "tauG2",
            index: 1,
        }));
    }
    check_powers(&g, &h).map_err(|e| r.err(e))?;
    let mut g = g;
    g.truncate(1 << k);
    Ok((g, h[1], header))
}

/// Checks that `g` and `h` start at the generators and are successive powers of one
/// `tau != 1` (see the module doc).
fn check_powers(g: &[G1Affine], h: &[G2Affine]) -> std::result::Result<(), PtauError> {
    let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
    if g[0] != g1 {
        return Err(PtauError::NotGenerator { section: "tauG1" });
    }
    if h[0] != g2 {
        return Err(PtauError::NotGenerator { section: "tauG2" });
    }
    if g[1] == g1 && h[1] == g2 {
        return Err(PtauError::NoContribution);
    }
    if bool::from(g[1].is_identity()) || pairing(&g[1], &g2) != pairing(&g1, &h[1]) {
        return Err(PtauError::Inconsistent {
            check: "[tau]G1 against [tau]G2",
        });
    }
    let r: Vec<Fr> = (1..g.len()).map(|_| Fr::random(OsRng)).collect();
    let lo = best_multiexp(&r, &g[..g.len() - 1]).to_affine();
    let hi = best_multiexp(&r, &g[1..]).to_affine();
    if pairing(&lo, &h[1]) != pairing(&hi, &g2) {
        return Err(PtauError::Inconsistent {
            check: "successive powers of tau in G1",
        });
    }
    Ok(())
}

/// SHA-256 of a whole file, read in chunks.
fn sha256_file(path: &Path) -> Result<String> {
    let mut f = File::open(path).map_err(io_err(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Whether the file at `path` starts with the `.ptau` magic.
pub(crate) fn is_ptau(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == b"ptau"
}

impl Srs {
    /// Imports a snarkjs Powers-of-Tau file (bn128) as parameters for `2^k` rows. Only the
    /// powers used are read, and checked (generators, `tau != 1`, points on the curve, pairing
    /// checks of `[tau]` and of every successive pair); the whole file is hashed for the
    /// origin. A file for another curve, with fewer than `2^k` powers, without contribution,
    /// truncated or corrupt is a [`ProverError::Ptau`].
    pub fn from_ptau(path: &Path, k: u32) -> Result<Self> {
        let (g, s_g2, header) = read_powers(path, k)?;
        // `from_parts` is a method only for want of a constructor; the template's own
        // (throwaway, k = 1) values are not used.
        let template = ParamsKZG::<Bn256>::setup(1, rand_chacha::ChaCha20Rng::seed_from_u64(0));
        let params = template.from_parts(k, g, None, G2Affine::generator(), s_g2);
        let origin = SrsOrigin::Ceremony {
            file: path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sha256: sha256_file(path)?,
            power: header.power,
            ceremony_power: header.ceremony_power,
            contributions: header.contributions,
        };
        Ok(Self::from_points(params, origin))
    }

    /// Parameters read from a file, of the origin the file states unless they are the
    /// development SRS's: that is [`SrsOrigin::DevInsecure`] whatever a header says (a
    /// `.ptau` made from the public development secret, with made-up contributions).
    fn from_points(params: ParamsKZG<Bn256>, stated: SrsOrigin) -> Self {
        let origin = if crate::srs::is_dev_params(&params) {
            SrsOrigin::DevInsecure {
                seed: crate::srs::DEV_SEED.into(),
            }
        } else {
            stated
        };
        Self { params, origin }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_catch_wrong_powers() {
        let tau = Fr::from(7);
        let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
        let mut g: Vec<G1Affine> = (0..8u64)
            .map(|i| (g1 * tau.pow_vartime([i])).to_affine())
            .collect();
        let h = vec![g2, (g2 * tau).to_affine()];
        check_powers(&g, &h).unwrap();
        g[5] = (g1 * Fr::from(5)).to_affine();
        assert!(matches!(
            check_powers(&g, &h),
            Err(PtauError::Inconsistent { .. })
        ));
        let ones = vec![g1; 4];
        assert!(matches!(
            check_powers(&ones, &[g2, g2]),
            Err(PtauError::NoContribution)
        ));
    }

    #[test]
    fn development_points_are_insecure_whatever_the_file_states() {
        let ceremony = || SrsOrigin::Ceremony {
            file: "made-up.ptau".into(),
            sha256: String::new(),
            power: 4,
            ceremony_power: 4,
            contributions: 54,
        };
        let dev = crate::dev_srs::setup(4, crate::srs::dev_rng(4));
        let srs = Srs::from_points(dev, ceremony());
        assert!(srs.origin.is_insecure(), "{:?}", srs.origin);
        let other = crate::dev_srs::setup(4, rand_chacha::ChaCha20Rng::seed_from_u64(99));
        assert_eq!(Srs::from_points(other, ceremony()).origin, ceremony());
    }

    #[test]
    fn bn254_prime_constant_is_the_base_field() {
        use halo2_axiom::halo2curves::bn256::Fq;
        use halo2_axiom::halo2curves::ff::PrimeField;
        assert_eq!(Fq::MODULUS, format!("0x{BN254_Q}"));
    }
}
