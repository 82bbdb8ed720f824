//! The verifying key as data for the EVM: a blob of 32-byte words the verifier copies into
//! memory, either from its own contract (`extcodecopy`, one verifier for many models of the
//! same circuit shape) or from constants compiled into a self-contained verifier.
//!
//! | word | content |
//! |---|---|
//! | 0 | `n = 2^k` |
//! | 1 | `k` |
//! | 2, 3 | `ω`, `ω⁻¹` |
//! | 4 | `n⁻¹` |
//! | 5 | the key's transcript digest (halo2 `transcript_repr`) |
//! | 6 | number of public instances |
//! | 7 | shape id: the circuit shape the verifier was generated for |
//! | 8–11 | `[s]₂` of the SRS: `x.c1, x.c0, y.c1, y.c0` (EIP-197 order) |
//! | 12… | fixed commitments, then permutation (sigma) commitments, `x, y` each |
//! | then | `ω^r` for each of [`Plan::omega_powers`] |
//! | then | the barycentric weight of each of [`Plan::weighted_points`] |
//!
//! The VK contract's runtime code is `0x00` (STOP) followed by the blob.

use crate::plan::Plan;
use halo2_axiom::halo2curves::bn256::{Bn256, Fq, Fr, G1Affine};
use halo2_axiom::halo2curves::ff::{Field, PrimeField};
use halo2_axiom::plonk::VerifyingKey;
use halo2_axiom::poly::commitment::Params;
use halo2_axiom::poly::kzg::commitment::ParamsKZG;
use sha3::{Digest, Keccak256};
use zkinfer_prover::transcript::{point_bytes, scalar_word};

/// Where each value sits in the key blob: word indices (a word is 32 bytes), not values.
pub mod word {
    /// Word index of `n`.
    pub const N: usize = 0;
    /// Word index of `k`.
    pub const K: usize = 1;
    /// Word index of `ω`.
    pub const OMEGA: usize = 2;
    /// Word index of `ω⁻¹`.
    pub const OMEGA_INV: usize = 3;
    /// Word index of `n⁻¹`.
    pub const N_INV: usize = 4;
    /// Word index of the transcript digest.
    pub const DIGEST: usize = 5;
    /// Word index of the instance count.
    pub const NUM_INSTANCES: usize = 6;
    /// Word index of the shape id.
    pub const SHAPE: usize = 7;
    /// Word index of `[s]₂`.
    pub const S_G2: usize = 8;
    /// Word index of the first fixed commitment.
    pub const FIXED: usize = 12;
}

/// Number of words of a VK blob for `plan`.
pub fn words(plan: &Plan) -> usize {
    weight_start(plan) + plan.weighted_points().len()
}

fn omega_start(plan: &Plan) -> usize {
    sigma(plan, plan.cs.permutation().get_columns().len())
}

fn weight_start(plan: &Plan) -> usize {
    omega_start(plan) + plan.omega_powers().len()
}

/// Word index of `ω^r` (`r` one of [`Plan::omega_powers`]).
pub fn omega_pow(plan: &Plan, r: i32) -> usize {
    let i = plan.omega_powers().iter().position(|p| *p == r);
    omega_start(plan) + i.expect("a rotation the plan uses")
}

/// Word index of the barycentric weight `Π_{c ≠ a} 1/(ω^{r_a} − ω^{r_c})` of point `a` of
/// rotation set `set` (one of [`Plan::weighted_points`]).
pub fn weight(plan: &Plan, set: usize, a: usize) -> usize {
    let i = plan.weighted_points().iter().position(|p| *p == (set, a));
    weight_start(plan) + i.expect("a point of a set of several")
}

/// Word index of sigma commitment `i`.
pub fn sigma(plan: &Plan, i: usize) -> usize {
    word::FIXED + 2 * (plan.cs.num_fixed_columns() + i)
}

/// The shape id of a plan: keccak256 of the pinned constraint system and the quotient
/// piece count. Verifiers accept only VK blobs of their own shape.
pub fn shape_id(plan: &Plan) -> [u8; 32] {
    // "vk2": the blob's layout (ω powers and barycentric weights after the commitments).
    let text = format!("vk2/{:?}/{}", plan.cs.pinned(), plan.quotient_pieces);
    Keccak256::digest(text.as_bytes()).into()
}

fn fq_word(f: &Fq) -> [u8; 32] {
    let mut w = f.to_repr();
    w.reverse();
    w
}

fn u64_word(v: u64) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&v.to_be_bytes());
    w
}

/// The VK blob of `vk` under `params` for `num_instances` public values.
pub fn blob(
    plan: &Plan,
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    num_instances: usize,
) -> Vec<u8> {
    let domain = vk.get_domain();
    let n = 1u64 << params.k();
    let n_inv = Fr::from(n).invert().expect("n is invertible");
    let s_g2 = params.s_g2();
    let mut w: Vec<[u8; 32]> = vec![
        u64_word(n),
        u64_word(u64::from(params.k())),
        scalar_word(&domain.get_omega()),
        scalar_word(&domain.get_omega_inv()),
        scalar_word(&n_inv),
        scalar_word(&vk.transcript_repr()),
        u64_word(num_instances as u64),
        shape_id(plan),
        fq_word(&s_g2.x.c1),
        fq_word(&s_g2.x.c0),
        fq_word(&s_g2.y.c1),
        fq_word(&s_g2.y.c0),
    ];
    for p in vk
        .fixed_commitments()
        .iter()
        .chain(vk.permutation().commitments())
    {
        let b = point_bytes(p);
        w.push(b[..32].try_into().expect("32 bytes"));
        w.push(b[32..].try_into().expect("32 bytes"));
    }
    let omega_pow = |r: i32| {
        let base = if r < 0 {
            domain.get_omega_inv()
        } else {
            domain.get_omega()
        };
        base.pow_vartime([u64::from(r.unsigned_abs())])
    };
    for r in plan.omega_powers() {
        w.push(scalar_word(&omega_pow(r)));
    }
    for (set, a) in plan.weighted_points() {
        let rots = &plan.sets[set].rotations;
        let denominator = rots
            .iter()
            .enumerate()
            .filter(|(c, _)| *c != a)
            .fold(Fr::ONE, |acc, (_, rc)| {
                acc * (omega_pow(rots[a]) - omega_pow(*rc))
            });
        let weight = denominator
            .invert()
            .expect("distinct rotations give distinct points");
        w.push(scalar_word(&weight));
    }
    debug_assert_eq!(w.len(), words(plan));
    w.concat()
}

/// Init code deploying `blob` as a VK contract (runtime code `0x00 ‖ blob`).
pub fn deploy_code(blob: &[u8]) -> Vec<u8> {
    let runtime_len = blob.len() + 1;
    assert!(runtime_len < 0x10000, "VK blob fits a PUSH2 length");
    let len = (runtime_len as u16).to_be_bytes();
    // PUSH2 len, DUP1, PUSH1 14, PUSH1 0, CODECOPY, PUSH1 0, RETURN; then runtime.
    let mut code = vec![
        0x61, len[0], len[1], 0x80, 0x60, 0x0e, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3,
    ];
    // Pad to offset 14 (two JUMPDEST-free filler bytes: STOP).
    code.extend_from_slice(&[0x00, 0x00]);
    code.push(0x00);
    code.extend_from_slice(blob);
    code
}
