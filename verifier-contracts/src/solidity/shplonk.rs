//! Step 7 of the body: the SHPLONK multi-opening check (halo2 `poly::kzg::multiopen::shplonk`).
//! Every commitment goes into one MSM, grouped by rotation set: for set `i`, its evaluations
//! interpolated at `u` (`r_inner`, folded over the set's commitments by powers of `y'`), its
//! coefficient `v^i·Z_{T∖S_i}(u)/Z_{T∖S_0}(u)`, and its commitments scaled by that coefficient
//! and the powers of `y'`; then `−r·G1`, `−Z_{T∖S_0}(u)·W` and `u·W'`, and one pairing
//! `e(W', [s]_2) · e(acc, −[1]_2) == 1`.

use super::body::{Body, Inverses};
use crate::plan::{Commitment, Eval, RotationSet};
use crate::vk;

impl Body<'_> {
    /// Step 7: the MSM over every rotation set's commitments, then the pairing.
    pub(super) fn shplonk(&mut self, inv: &Inverses) {
        self.line("// 7. SHPLONK: one MSM over every commitment, then one pairing.");
        self.line("mstore(0x80, 0) mstore(0xa0, 0)");
        let plan = self.plan;
        for (i, set) in plan.sets.iter().enumerate() {
            self.line(format!(
                "// rotation set {i}: rotations {:?}, {} commitments",
                set.rotations,
                set.commitments.len()
            ));
            self.set_lagrange(i, set);
            self.r_inner(i, set);
            self.set_coefficient(i, set, inv);
            self.set_commitments(i, set);
        }
        self.pairing();
    }

    /// The value at `x·ω^r` of an evaluation the proof opens.
    fn eval(&self, e: &Eval) -> String {
        match e {
            Eval::Proof(i) => crate::quotient::eval(self.plan, self.mem, *i),
            Eval::Quotient => self.mem.get("H_EVAL"),
        }
    }

    /// `LAG_i_a`: the Lagrange basis of set `i`'s points at `u`, for each of its rotations `a`.
    fn set_lagrange(&mut self, i: usize, set: &RotationSet) {
        let m = set.rotations.len();
        for a in 0..m {
            // Π_{c ≠ a} (u − x·ω^c)/(x·ω^a − x·ω^c) = x^{1−m}·w_a·Π_{c ≠ a} (u − x·ω^c), with
            // the barycentric weight w_a from the key.
            let mut t = if m > 1 {
                format!(
                    "mulmod({}, {}, R)",
                    self.mem.get(&format!("XINV_{}", m - 1)),
                    self.vkw(vk::weight(self.plan, i, a))
                )
            } else {
                "1".to_string()
            };
            for (c, rc) in set.rotations.iter().enumerate() {
                if c != a {
                    t = format!("mulmod({t}, {}, R)", self.u_minus(*rc));
                }
            }
            self.line(format!(
                "mstore({}, {t})",
                self.mem.at(&format!("LAG_{i}_{a}"))
            ));
        }
    }

    /// `R_INNER`: `Σ_j y'^j r_j(u)` over set `i`'s commitments, by Horner from the last.
    fn r_inner(&mut self, i: usize, set: &RotationSet) {
        let mem = self.mem;
        let sy = mem.get("SY");
        self.line(format!("mstore({}, 0)", mem.at("R_INNER")));
        for (_, evals) in set.commitments.iter().rev() {
            let r = if set.rotations.len() == 1 {
                self.eval(&evals[0])
            } else {
                evals
                    .iter()
                    .enumerate()
                    .map(|(a, e)| {
                        format!(
                            "mulmod({}, {}, R)",
                            self.eval(e),
                            mem.get(&format!("LAG_{i}_{a}"))
                        )
                    })
                    .reduce(|acc, t| format!("addmod({acc}, {t}, R)"))
                    .expect("a set has a point")
            };
            self.line(format!(
                "mstore({}, addmod(mulmod({}, {sy}, R), {r}, R))",
                mem.at("R_INNER"),
                mem.get("R_INNER")
            ));
        }
    }

    /// Set `i`'s coefficient (`COEF`, 1 for the first set), and `R_OUTER` plus its share.
    /// The first set also gives `Z_0 = Z_{S_0}(u)`, the factor of `W`.
    fn set_coefficient(&mut self, i: usize, set: &RotationSet, inv: &Inverses) {
        let mem = self.mem;
        if i == 0 {
            let z0 = set.rotations.iter().fold("1".to_string(), |acc, r| {
                format!("mulmod({acc}, {}, R)", self.u_minus(*r))
            });
            self.line(format!("mstore({}, {z0})", mem.at("Z_0")));
            self.line(format!("mstore({}, 1)", mem.at("V_POW")));
            // The first set's coefficient is 1.
            self.line(format!(
                "mstore({}, {})",
                mem.at("R_OUTER"),
                mem.get("R_INNER")
            ));
            self.line(format!("mstore({}, 1)", mem.at("COEF")));
            return;
        }
        self.line(format!(
            "mstore({}, mulmod({}, {}, R))",
            mem.at("V_POW"),
            mem.get("V_POW"),
            mem.get("V")
        ));
        self.line(format!(
            "mstore({}, mulmod(mulmod({}, {}, R), mload({}), R))",
            mem.at("SET_COEF"),
            mem.get("V_POW"),
            self.zdiff(&set.rotations),
            inv.slot(inv.zdiff0)
        ));
        self.line(format!(
            "mstore({}, addmod({}, mulmod({}, {}, R), R))",
            mem.at("R_OUTER"),
            mem.get("R_OUTER"),
            mem.get("SET_COEF"),
            mem.get("R_INNER")
        ));
        self.line(format!(
            "mstore({}, {})",
            mem.at("COEF"),
            mem.get("SET_COEF")
        ));
    }

    /// Set `i`'s commitments into the MSM, each scaled by `COEF` (then `COEF·y'` for the
    /// next); the quotient's pieces by the powers of `xⁿ` in a loop.
    fn set_commitments(&mut self, i: usize, set: &RotationSet) {
        let (plan, mem) = (self.plan, self.mem);
        let coef = mem.get("COEF");
        for (j, (c, _)) in set.commitments.iter().enumerate() {
            match c {
                Commitment::Quotient => {
                    self.line(format!("{{ let s := {coef} for {{ let t := 0 }} lt(t, {}) {{ t := add(t, 1) }} {{ let a := add(PROOF_MPTR, add({:#x}, shl(6, t))) msm_term(mload(a), mload(add(a, 0x20)), s) s := mulmod(s, {}, R) }} }}", plan.quotient_pieces, plan.quotient_point(0), mem.get("XN")));
                }
                _ => {
                    let addr = match c {
                        Commitment::Fixed(f) => mem.vk + 32 * (vk::word::FIXED + 2 * f),
                        Commitment::Sigma(s) => mem.vk + 32 * vk::sigma(plan, *s),
                        other => mem.proof + plan.proof_point(*other).expect("proof point"),
                    };
                    let xy = format!("mload({addr:#x}), mload({:#x})", addr + 32);
                    let call = if i == 0 && j == 0 {
                        format!("msm_add({xy})")
                    } else {
                        format!("msm_term({xy}, {coef})")
                    };
                    if matches!(c, Commitment::Fixed(_) | Commitment::Sigma(_)) {
                        // The identity (a column a model leaves empty) adds nothing.
                        self.line(format!(
                            "if or(mload({addr:#x}), mload({:#x})) {{ {call} }} // {c:?}",
                            addr + 32
                        ));
                    } else {
                        self.line(format!("{call} // {c:?}"));
                    }
                }
            }
            if j + 1 < set.commitments.len() {
                self.line(format!(
                    "mstore({}, mulmod({coef}, {}, R))",
                    mem.at("COEF"),
                    mem.get("SY")
                ));
            }
        }
    }

    /// `−r·G1`, `−Z_0·W` and `u·W'` into the MSM, then the pairing check, whose result is
    /// the return value.
    fn pairing(&mut self) {
        let (w1, w2) = self.plan.opening_points();
        self.line("msm_term(1, 2, sub(R, mload(R_OUTER_MPTR))) // -r·G1");
        self.line(format!("msm_term(mload(add(PROOF_MPTR, {w1:#x})), mload(add(PROOF_MPTR, {:#x})), sub(R, mload(Z_0_MPTR))) // -z_0·W", w1 + 32));
        self.line(format!(
            "msm_term(mload(add(PROOF_MPTR, {w2:#x})), mload(add(PROOF_MPTR, {:#x})), {}) // u·W'",
            w2 + 32,
            self.mem.get("U")
        ));
        self.line("// e(W', [s]_2) · e(acc, -[1]_2) == 1");
        self.line(format!("mstore(0x120, mload(add(PROOF_MPTR, {w2:#x}))) mstore(0x140, mload(add(PROOF_MPTR, {:#x})))", w2 + 32));
        for k in 0..4 {
            self.line(format!(
                "mstore({:#x}, {})",
                0x160 + 32 * k,
                self.vkw(vk::word::S_G2 + k)
            ));
        }
        self.line("mstore(0x1e0, mload(0x80)) mstore(0x200, mload(0xa0))");
        self.line("mstore(0x220, NEG_G2_X1) mstore(0x240, NEG_G2_X0) mstore(0x260, NEG_G2_Y1) mstore(0x280, NEG_G2_Y0)");
        self.line("if iszero(staticcall(gas(), 0x08, 0x120, 0x180, 0x00, 0x20)) { fail_PrecompileFailed() }");
        self.line("return(0x00, 0x20)");
    }
}
