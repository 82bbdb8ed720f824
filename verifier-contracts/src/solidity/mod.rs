//! Solidity code generation: the contract shell (NatSpec, named constants, custom errors)
//! around one inline-assembly body that replays the verifier of [`Plan`] on the EVM.
//!
//! - `contract`: the shell, in the order of the file it writes (header, constants, entry
//!   points, `_verify`);
//! - `body`: the assembly of `_verify`, one emitter per numbered step of the generated code
//!   (1. verifying key, 2. lengths and scalars, 3. transcript, 4. points and inverses,
//!   5. Lagrange values, 6. the quotient, from [`crate::quotient`]);
//! - `shplonk`: step 7, the SHPLONK multi-opening check (one MSM, one pairing).
//!
//! Memory layout: `0x80` accumulator and `0xc0` scalar-multiplication input (so `ecAdd` reads
//! both from `0x80..0x100`), `0x120` pairing input, then the verifying key, the named values,
//! a copy of the proof, and last a scratch area for the transcript and the batch inversion
//! (its size grows with the number of instances).

mod body;
mod contract;
mod shplonk;

use crate::plan::Plan;
use crate::vk;
use halo2_axiom::halo2curves::bn256::{Fq, G2Affine};
use halo2_axiom::halo2curves::ff::PrimeField;

/// How the verifier finds its verifying key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VkSource {
    /// In a separate VK contract (address given at construction, or per call).
    Contract,
    /// Compiled into the verifier (a single self-contained contract).
    Embedded(Vec<u8>),
}

/// A 32-byte word as a Yul hex literal.
pub fn hex_word(w: &[u8; 32]) -> String {
    let s = hex::encode(w);
    let t = s.trim_start_matches('0');
    if t.is_empty() {
        "0".into()
    } else {
        format!("0x{t}")
    }
}

fn fq_lit(f: &Fq) -> String {
    let mut w = f.to_repr();
    w.reverse();
    hex_word(&w)
}

/// The named memory slots.
#[derive(Clone, Debug)]
pub struct Mem {
    names: Vec<(String, usize)>,
    /// Start of the verifying key.
    pub vk: usize,
    /// Start of the proof copy.
    pub proof: usize,
    /// Start of the scratch area (transcript, then inversion).
    pub scratch: usize,
}

impl Mem {
    fn new(plan: &Plan, extra: &[String]) -> Self {
        let vk = 0x2a0;
        let mut next = vk + 32 * vk::words(plan);
        let mut names = Vec::new();
        for n in NAMED
            .iter()
            .map(|s| s.to_string())
            .chain(extra.iter().cloned())
        {
            names.push((n, next));
            next += 32;
        }
        let proof = next;
        Self {
            names,
            vk,
            proof,
            scratch: proof + plan.proof_len().next_multiple_of(32),
        }
    }

    /// The constant naming slot `name`.
    pub fn at(&self, name: &str) -> String {
        assert!(
            self.names.iter().any(|(n, _)| n == name),
            "unknown slot {name}"
        );
        format!("{name}_MPTR")
    }

    /// `mload` of slot `name`.
    pub fn get(&self, name: &str) -> String {
        format!("mload({})", self.at(name))
    }
}

const NAMED: &[&str] = &[
    "THETA",
    "BETA",
    "GAMMA",
    "Y",
    "X",
    "SY",
    "V",
    "U",
    "XN",
    "BETA_X",
    "L_0",
    "L_LAST",
    "L_BLIND",
    "ACTIVE",
    "LAGRANGE_COMMON",
    "INSTANCE_EVAL",
    "H_EVAL",
    "R_OUTER",
    "SET_COEF",
    "COEF",
    "R_INNER",
    "Z_0",
    "V_POW",
];

fn selector(sig: &str) -> String {
    format!("0x{}", hex::encode(crate::abi::selector(sig)))
}

const ERRORS: &[(&str, &str)] = &[
    ("InvalidProofLength", "The proof does not have the length of this circuit's proofs."),
    ("InvalidInstances", "The instance count differs from the key's, or an instance is not below the scalar field order."),
    ("InvalidScalar", "A proof scalar is not below the scalar field order."),
    ("InvalidPoint", "A proof point has a coordinate not below the base field order or is not on the curve; or an elliptic-curve precompile call ran out of gas."),
    ("InvalidVerifyingKey", "The verifying key contract is missing or is for another circuit shape."),
    ("PrecompileFailed", "The modexp or pairing precompile call failed."),
];

/// The name of the verifier's custom error whose selector starts `revert_data`, if any.
pub fn error_name(revert_data: &[u8]) -> Option<&'static str> {
    let sel = revert_data.get(..4)?;
    ERRORS
        .iter()
        .map(|(name, _)| *name)
        .find(|name| crate::abi::selector(&format!("{name}()")) == sel)
}

/// Generates the Solidity source of the verifier of `plan`.
pub fn generate(
    plan: &Plan,
    source: &VkSource,
    shape_id: &[u8; 32],
    g2: G2Affine,
    srs: &str,
) -> String {
    let mem = Mem::new(plan, &extra_slots(plan));
    let body = body::emit(plan, &mem, source);
    let mut s = String::new();
    contract::header(&mut s, plan, srs);
    contract::constants(&mut s, plan, &mem, shape_id, g2);
    contract::entry_points(&mut s, source);
    contract::verify_function(&mut s, &body);
    s
}

/// The named slots that depend on the plan (after [`NAMED`]): each opening point `x·ω^r`,
/// then `u − x·ω^r`, the powers of `x⁻¹` the interpolation needs, and the Lagrange factor of
/// each rotation of each rotation set.
fn extra_slots(plan: &Plan) -> Vec<String> {
    let rots = plan.rotations();
    let mut extra: Vec<String> = rots.iter().map(|r| point_name(*r)).collect();
    extra.extend(rots.iter().map(|r| format!("U_{}", point_name(*r))));
    extra.extend((1..plan.max_set_len()).map(|e| format!("XINV_{e}")));
    for (i, set) in plan.sets.iter().enumerate() {
        for k in 0..set.rotations.len() {
            extra.push(format!("LAG_{i}_{k}"));
        }
    }
    extra
}

fn point_name(r: i32) -> String {
    if r < 0 {
        format!("PT_M{}", -r)
    } else {
        format!("PT_{r}")
    }
}
