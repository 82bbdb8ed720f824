//! Fast generation of the development SRS, bit-identical to `ParamsKZG::setup`.
//!
//! `ParamsKZG::setup(k, rng)` draws the secret `τ` from `rng` and then computes each of the
//! `2·2^k` points `[τ^i]G` and `[L_i(τ)]G` with a full variable-base scalar multiplication
//! (about 8.5 minutes at `k = 22` on 2 cores). The points depend only on `τ`, so any way of
//! computing them gives the same affine coordinates. Here:
//!
//! - the scalars: `τ^i` by running products, and the Lagrange basis at `τ`,
//!   `L_i(τ) = (τ^n − 1)/n · ω^i/(τ − ω^i)`, with one batch (Montgomery) inversion per chunk;
//! - the points: fixed-base windowed multiplication of the generator with a precomputed table
//!   of `d·2^{12j}·G` (22 windows of 12 bits, 90,090 affine points, 5.8 MB), so each point
//!   costs at most 22 mixed additions instead of ~256 doublings and 256 additions;
//! - affine conversion by batch normalisation, all of it rayon-parallel.
//!
//! The same `τ` (one `Fr::random(rng)` draw, as `setup` makes), the same points: the tests
//! compare the serialized params with `ParamsKZG::setup`'s.

use halo2_axiom::halo2curves::bn256::{Bn256, Fr, G1Affine, G2Affine, G1};
use halo2_axiom::halo2curves::ff::{BatchInvert, Field, PrimeField};
use halo2_axiom::halo2curves::group::prime::PrimeCurveAffine;
use halo2_axiom::halo2curves::group::{Curve, Group};
use halo2_axiom::poly::kzg::commitment::ParamsKZG;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;

/// Bits per window of the fixed-base table.
const WINDOW: usize = 12;
/// Windows covering a 256-bit scalar representation.
const WINDOWS: usize = 256usize.div_ceil(WINDOW);
/// Points per parallel work item (one batch inversion or normalisation each).
const CHUNK: usize = 1 << 12;

/// `table[j][d - 1] = d·2^{WINDOW·j}·G` for `d` in `1..2^WINDOW`.
struct FixedBase {
    table: Vec<Vec<G1Affine>>,
}

impl FixedBase {
    fn new(base: G1) -> Self {
        let mut table = Vec::with_capacity(WINDOWS);
        let mut window_base = base;
        for _ in 0..WINDOWS {
            let mut row = Vec::with_capacity((1 << WINDOW) - 1);
            let mut acc = window_base;
            for _ in 1..(1 << WINDOW) {
                row.push(acc);
                acc += window_base;
            }
            // `acc` is now 2^WINDOW times this window's base: the next window's base.
            window_base = acc;
            let mut affine = vec![G1Affine::identity(); row.len()];
            G1::batch_normalize(&row, &mut affine);
            table.push(affine);
        }
        Self { table }
    }

    /// `x·G` for the table's base `G`.
    fn mul(&self, x: &Fr) -> G1 {
        let repr = x.to_repr();
        let bytes = repr.as_ref();
        let mut acc = G1::identity();
        for (j, row) in self.table.iter().enumerate() {
            let digit = window(bytes, j * WINDOW);
            if digit != 0 {
                acc += row[digit - 1];
            }
        }
        acc
    }

    /// The affine points of `scalars`, in order.
    fn mul_all(&self, scalars: &[Fr]) -> Vec<G1Affine> {
        let mut out = vec![G1Affine::identity(); scalars.len()];
        out.par_chunks_mut(CHUNK)
            .zip(scalars.par_chunks(CHUNK))
            .for_each(|(out, scalars)| {
                let proj: Vec<G1> = scalars.iter().map(|x| self.mul(x)).collect();
                G1::batch_normalize(&proj, out);
            });
        out
    }
}

/// Bits `offset..offset + WINDOW` of a little-endian 256-bit number.
fn window(bytes: &[u8], offset: usize) -> usize {
    let mut v = 0usize;
    for bit in 0..WINDOW {
        let i = offset + bit;
        if i < 256 && bytes[i / 8] >> (i % 8) & 1 == 1 {
            v |= 1 << bit;
        }
    }
    v
}

/// `[base^0, base^1, …]`: the first `len` powers of `base`, in parallel chunks.
fn powers(base: Fr, len: usize) -> Vec<Fr> {
    let mut out = vec![Fr::ZERO; len];
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, chunk)| {
            let mut cur = base.pow_vartime([(c * CHUNK) as u64]);
            for x in chunk.iter_mut() {
                *x = cur;
                cur *= base;
            }
        });
    out
}

/// The primitive `2^k`-th root of unity `setup` uses (derived the same way).
fn root_of_unity(k: u32) -> Fr {
    let mut root = Fr::ROOT_OF_UNITY_INV.invert().unwrap();
    for _ in k..Fr::S {
        root = root.square();
    }
    root
}

/// `L_i(τ)` for `i < 2^k`: `(τ^n − 1)/n · ω^i/(τ − ω^i)`.
fn lagrange_scalars(k: u32, tau: Fr) -> Vec<Fr> {
    let n = 1u64 << k;
    let n_inv = Fr::from(n).invert().expect("n = 2^k is invertible");
    let multiplier = (tau.pow_vartime([n]) - Fr::ONE) * n_inv;
    let mut omegas = powers(root_of_unity(k), n as usize);
    omegas.par_chunks_mut(CHUNK).for_each(|chunk| {
        let mut den: Vec<Fr> = chunk.iter().map(|w| tau - w).collect();
        // τ is a root of unity with negligible probability; `setup` would panic there too.
        den.iter_mut().batch_invert();
        for (w, d) in chunk.iter_mut().zip(den) {
            *w = multiplier * *w * d;
        }
    });
    omegas
}

/// The params `ParamsKZG::setup(k, rng)` returns, computed fast.
pub(crate) fn setup(k: u32, rng: impl RngCore) -> ParamsKZG<Bn256> {
    assert!(k <= Fr::S, "k = {k} exceeds the 2-adicity of Fr");
    let tau = Fr::random(rng);
    let n = 1usize << k;
    let table = FixedBase::new(G1::generator());
    let g = table.mul_all(&powers(tau, n));
    let g_lagrange = table.mul_all(&lagrange_scalars(k, tau));
    let g2 = G2Affine::generator();
    let s_g2 = (g2 * tau).to_affine();
    // `from_parts` is a method; any params serve as the receiver (it reads nothing from them).
    let receiver = ParamsKZG::<Bn256>::setup(0, ChaCha20Rng::from_seed([7; 32]));
    receiver.from_parts(k, g, Some(g_lagrange), g2, s_g2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2_axiom::poly::commitment::Params;

    fn bytes(p: &ParamsKZG<Bn256>) -> Vec<u8> {
        let mut out = Vec::new();
        p.write(&mut out).unwrap();
        out
    }

    #[test]
    fn bit_identical_to_halo2_setup() {
        for k in 1..=10 {
            let fast = setup(k, crate::srs::dev_rng(k));
            let slow = ParamsKZG::<Bn256>::setup(k, crate::srs::dev_rng(k));
            assert_eq!(bytes(&fast), bytes(&slow), "k = {k}");
        }
    }

    #[test]
    fn fixed_base_matches_scalar_multiplication() {
        let table = FixedBase::new(G1::generator());
        let mut rng = crate::srs::dev_rng(99);
        let mut xs: Vec<Fr> = (0..50).map(|_| Fr::random(&mut rng)).collect();
        xs.extend([Fr::ZERO, Fr::ONE, -Fr::ONE, Fr::from(256), Fr::from(255)]);
        for x in xs {
            assert_eq!(
                table.mul(&x).to_affine(),
                (G1Affine::generator() * x).to_affine()
            );
        }
    }

    /// Timing, not a check: `ZKINFER_SRS_TIMING=16,18,20 cargo test --release -p
    /// zkinfer-prover dev_srs_timing -- --ignored --nocapture` (add `,slow` to time
    /// `ParamsKZG::setup` too).
    #[test]
    #[ignore]
    fn dev_srs_timing() {
        let spec = std::env::var("ZKINFER_SRS_TIMING").unwrap_or_else(|_| "16".into());
        let slow = spec.contains("slow");
        for k in spec.split(',').filter_map(|s| s.trim().parse::<u32>().ok()) {
            let t = std::time::Instant::now();
            let fast = setup(k, crate::srs::dev_rng(k));
            let fast_s = t.elapsed().as_secs_f64();
            print!("k = {k}: fast {fast_s:.2} s");
            if slow {
                let t = std::time::Instant::now();
                let reference = ParamsKZG::<Bn256>::setup(k, crate::srs::dev_rng(k));
                print!(", ParamsKZG::setup {:.2} s", t.elapsed().as_secs_f64());
                assert_eq!(bytes(&fast), bytes(&reference));
            }
            println!();
        }
    }
}
