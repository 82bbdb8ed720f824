//! The assembly body of `_verify`, one emitter per step; the steps are numbered as in the
//! comments of the generated code. Each emitter appends Yul lines (unindented; `contract`
//! indents them) to [`Body::out`].

use super::{hex_word, point_name, selector, Mem, VkSource, ERRORS};
use crate::plan::Plan;
use crate::vk;

/// The body of `_verify` for `plan`: helpers, then steps 1 to 7, separated by blank lines.
pub(super) fn emit(plan: &Plan, mem: &Mem, source: &VkSource) -> Vec<String> {
    let mut b = Body::new(plan, mem);
    b.helpers();
    b.blank();
    b.verifying_key(source);
    b.blank();
    b.lengths_and_scalars();
    b.blank();
    b.transcript();
    b.blank();
    b.points();
    let inverses = b.inversion();
    b.blank();
    b.lagrange(&inverses);
    b.blank();
    b.line("// 6. The quotient's expected value at x.");
    b.out
        .extend(crate::quotient::emit(plan, mem, inverses.addr(0)));
    b.blank();
    b.shplonk(&inverses);
    b.out
}

/// The emitters' shared state: the plan, the memory map and the lines so far.
pub(super) struct Body<'a> {
    pub(super) plan: &'a Plan,
    pub(super) mem: &'a Mem,
    /// The Yul lines emitted so far.
    pub(super) out: Vec<String>,
    /// Every rotation the circuit queries, in the plan's order.
    rots: Vec<i32>,
    /// halo2's blinding factors `b`: the last `b` rows (`ω^−b..ω^−1`) are blinded, and the
    /// last active row (`l_last`) is `ω^−(b+1)`.
    blinding: i32,
}

/// Where step 4 leaves each inverted denominator in the scratch area (index `i` at
/// `SCRATCH_MPTR + 32·i`): `xⁿ − 1` at 0, `x − ω^r` for `r` in `−(b + 1)..=0` from 1, then
/// the first rotation set's `Π (u − x·ω^r)` over the rotations outside it, `x`, and from
/// `fixed` on, `x − ω^i` of each instance row `i`.
pub(super) struct Inverses {
    /// Start of the scratch area.
    scratch: usize,
    /// Index of `1/Π_{r ∉ set 0} (u − x·ω^r)`.
    pub(super) zdiff0: usize,
    /// Index of `1/x`.
    xinv: usize,
    /// Count of denominators known before the instances (their index is where the
    /// instances' start).
    fixed: usize,
}

impl Inverses {
    /// Address of inverse `i`.
    fn addr(&self, i: usize) -> usize {
        self.scratch + 32 * i
    }

    /// Address of inverse `i`, as a Yul hex literal.
    pub(super) fn slot(&self, i: usize) -> String {
        format!("{:#x}", self.addr(i))
    }
}

impl<'a> Body<'a> {
    fn new(plan: &'a Plan, mem: &'a Mem) -> Self {
        Self {
            plan,
            mem,
            out: Vec::new(),
            rots: plan.rotations(),
            blinding: plan.blinding_factors as i32,
        }
    }

    /// Appends one line.
    pub(super) fn line(&mut self, s: impl Into<String>) {
        self.out.push(s.into());
    }

    fn blank(&mut self) {
        self.out.push(String::new());
    }

    /// `mload` of word `i` of the verifying key.
    pub(super) fn vkw(&self, i: usize) -> String {
        format!("mload({:#x})", self.mem.vk + 32 * i)
    }

    /// `ω^r`, from the key (`1` for `r = 0`).
    fn wpow(&self, r: i32) -> String {
        if r == 0 {
            "1".to_string()
        } else {
            self.vkw(vk::omega_pow(self.plan, r))
        }
    }

    /// `u − x·ω^r`, from its slot.
    pub(super) fn u_minus(&self, r: i32) -> String {
        self.mem.get(&format!("U_{}", point_name(r)))
    }

    /// `Π (u − x·ω^r)` over the rotations `r` outside `set`.
    pub(super) fn zdiff(&self, set: &[i32]) -> String {
        self.rots
            .iter()
            .filter(|r| !set.contains(r))
            .fold("1".to_string(), |acc, r| {
                format!("mulmod({acc}, {}, R)", self.u_minus(*r))
            })
    }

    /// Index of `1/(x − ω^r)` among the inverses, for `r` in `−(b + 1)..=0`.
    fn x_minus_omega(&self, r: i32) -> usize {
        (1 + r + self.blinding + 1) as usize
    }

    /// The Yul functions the steps call: one `fail_<Error>()` per custom error, the transcript
    /// `squeeze`, and the MSM accumulation through the precompiles.
    fn helpers(&mut self) {
        for (name, _) in ERRORS {
            self.line(format!(
                "function fail_{name}() {{ mstore(0, shl(224, {})) revert(0, 4) }}",
                selector(&format!("{name}()"))
            ));
        }
        self.line(
            "// Challenge from the proof bytes [from, from + len): keccak256(state || bytes).",
        );
        self.line("function squeeze(src, len) -> c {");
        self.line("    calldatacopy(add(SCRATCH_MPTR, 0x20), src, len)");
        self.line("    let h := keccak256(SCRATCH_MPTR, add(len, 0x20))");
        self.line("    mstore(SCRATCH_MPTR, h)");
        self.line("    c := mod(h, R)");
        self.line("}");
        self.line("// acc += s * (x, y): ecMul then ecAdd, each given the gas left (a fixed stipend would fail");
        self.line("// every verification once a fork reprices the precompiles). Every proof point was checked");
        self.line("// on the curve in step 2, so a failure here is running out of gas.");
        self.line("function msm_term(x, y, s) {");
        self.line("    mstore(0xc0, x) mstore(0xe0, y) mstore(0x100, s)");
        self.line("    let ok := staticcall(gas(), 0x07, 0xc0, 0x60, 0xc0, 0x40)");
        self.line("    ok := and(ok, staticcall(gas(), 0x06, 0x80, 0x80, 0x80, 0x40))");
        self.line("    if iszero(ok) { fail_InvalidPoint() }");
        self.line("}");
        self.line("function msm_add(x, y) {");
        self.line("    mstore(0xc0, x) mstore(0xe0, y)");
        self.line(
            "    if iszero(staticcall(gas(), 0x06, 0x80, 0x80, 0x80, 0x40)) { fail_InvalidPoint() }",
        );
        self.line("}");
    }

    /// Step 1: the verifying key into memory (from its contract, or as constants), and its
    /// shape checked.
    fn verifying_key(&mut self, source: &VkSource) {
        self.line("// 1. Verifying key.");
        match source {
            VkSource::Contract => {
                // A missing or foreign contract fails the shape check below.
                self.line("extcodecopy(vk, VK_MPTR, 1, VK_LEN)");
            }
            VkSource::Embedded(blob) => {
                for (i, w) in blob.chunks(32).enumerate() {
                    let w: [u8; 32] = w.try_into().expect("word");
                    self.line(format!(
                        "mstore({:#x}, {})",
                        self.mem.vk + 32 * i,
                        hex_word(&w)
                    ));
                }
            }
        }
        self.line(format!(
            "if iszero(eq({}, SHAPE_ID)) {{ fail_InvalidVerifyingKey() }}",
            self.vkw(vk::word::SHAPE)
        ));
    }

    /// Step 2: the proof's and instances' lengths, the proof copied to memory, every proof
    /// scalar below `r` and every proof point on the curve (so that the precompile calls
    /// after it, given all the gas left, cannot fail on the proof's account).
    fn lengths_and_scalars(&mut self) {
        self.line("// 2. Lengths, canonical scalars and points on the curve.");
        self.line("if iszero(eq(proof.length, PROOF_LEN)) { fail_InvalidProofLength() }");
        self.line(format!(
            "let n_inst := {}",
            self.vkw(vk::word::NUM_INSTANCES)
        ));
        self.line("if iszero(eq(instances.length, n_inst)) { fail_InvalidInstances() }");
        self.line("calldatacopy(PROOF_MPTR, proof.offset, PROOF_LEN)");
        // Unrolled, with one branch per group: a failed check reverts, wherever it is.
        let scalars: Vec<usize> = (0..self.plan.num_scalars)
            .map(|i| self.plan.scalar(i))
            .collect();
        for group in scalars.chunks(8) {
            let all = group
                .iter()
                .map(|o| format!("lt(mload({:#x}), R)", self.mem.proof + o))
                .reduce(|acc, c| format!("and({acc}, {c})"))
                .expect("a group is not empty");
            self.line(format!("if iszero({all}) {{ fail_InvalidScalar() }}"));
        }
        let (w, w2) = self.plan.opening_points();
        let points: Vec<usize> = (0..self.plan.points_before_evals)
            .map(|i| self.plan.point(i))
            .chain([w, w2])
            .collect();
        // Each point on the curve `y² = x³ + 3` or the point at infinity `(0, 0)` (the GPU
        // prover leaves a lookup's permuted columns unblinded: an all-zero one commits to it),
        // with both coordinates below P: `bad` collects `y² − (x³ + 3)` of every point but
        // `(0, 0)` and whether a coordinate is out of range. Unrolled;
        // `p` because the optimizer, tuned for code size, would build the constant anew at
        // every use (a loop costs 700 gas more on mlp_iris, the constant 2,000).
        self.line("{");
        self.line("    let bad := 0 let p := P");
        for o in points {
            let at = self.mem.proof + o;
            self.line(format!(
                "    {{ let x := mload({at:#x}) let y := mload({:#x}) bad := or(bad, or(and(or(x, y), xor(mulmod(y, y, p), addmod(mulmod(mulmod(x, x, p), x, p), 3, p))), iszero(and(lt(x, p), lt(y, p))))) }}",
                at + 32
            ));
        }
        self.line("    if bad { fail_InvalidPoint() }");
        self.line("}");
    }

    /// Step 3: the Fiat–Shamir challenges. The key's digest and the instances (each checked
    /// below `r`) with the proof up to `THETA_END` give θ; each later challenge squeezes the
    /// proof bytes since the previous one.
    fn transcript(&mut self) {
        self.line("// 3. Transcript: digest and instances, then the proof in order.");
        self.line(format!(
            "mstore(SCRATCH_MPTR, 0) mstore(add(SCRATCH_MPTR, 0x20), {})",
            self.vkw(vk::word::DIGEST)
        ));
        self.line("for { let i := 0 } lt(i, n_inst) { i := add(i, 1) } {");
        self.line("    let v := calldataload(add(instances.offset, shl(5, i)))");
        self.line("    if iszero(lt(v, R)) { fail_InvalidInstances() }");
        self.line("    mstore(add(SCRATCH_MPTR, add(0x40, shl(5, i))), v)");
        self.line("}");
        self.line("{");
        self.line("    let at := add(SCRATCH_MPTR, add(0x40, shl(5, n_inst)))");
        self.line("    calldatacopy(at, proof.offset, THETA_END)");
        self.line("    let h := keccak256(SCRATCH_MPTR, sub(add(at, THETA_END), SCRATCH_MPTR))");
        self.line("    mstore(SCRATCH_MPTR, h)");
        self.line(format!("    mstore({}, mod(h, R))", self.mem.at("THETA")));
        self.line("}");
        for (slot, from, to) in [
            ("BETA", "THETA_END", "BETA_END"),
            ("GAMMA", "BETA_END", "BETA_END"),
            ("Y", "BETA_END", "Y_END"),
            ("X", "Y_END", "X_END"),
            ("SY", "X_END", "SY_END"),
            ("V", "SY_END", "SY_END"),
            ("U", "SY_END", "U_END"),
        ] {
            self.line(format!(
                "mstore({}, squeeze(add(proof.offset, {from}), sub({to}, {from})))",
                self.mem.at(slot)
            ));
        }
    }

    /// Step 4, first part: `xⁿ` (by `k` squarings), and for each rotation `r` the point
    /// `x·ω^r` and `u − x·ω^r`.
    fn points(&mut self) {
        self.line("// 4. Points x·ω^r, xⁿ, and every denominator, inverted at once.");
        let mem = self.mem;
        let (x, u) = (mem.get("X"), mem.get("U"));
        self.line(format!("{{ let xn := {x} for {{ let i := 0 }} lt(i, {}) {{ i := add(i, 1) }} {{ xn := mulmod(xn, xn, R) }} mstore({}, xn) }}", self.vkw(vk::word::K), mem.at("XN")));
        for r in self.rots.clone() {
            let pt = if r == 0 {
                x.clone()
            } else {
                format!("mulmod({x}, {}, R)", self.wpow(r))
            };
            self.line(format!("mstore({}, {pt})", mem.at(&point_name(r))));
            self.line(format!(
                "mstore({}, addmod({u}, sub(R, {}), R))",
                mem.at(&format!("U_{}", point_name(r))),
                mem.get(&point_name(r))
            ));
        }
    }

    /// Step 4, second part: every denominator of steps 5 and 7 (see [`Inverses`]) and the
    /// instance rows' `x − ω^i`, inverted together by Montgomery's batch inversion with one
    /// modexp; then the powers `x^{−e}` the rotation sets' interpolation needs.
    fn inversion(&mut self) -> Inverses {
        let mem = self.mem;
        let x = mem.get("X");
        let b = self.blinding;
        let mut dens: Vec<String> = Vec::new();
        dens.push(format!("addmod({}, sub(R, 1), R)", mem.get("XN")));
        for r in -(b + 1)..=0 {
            dens.push(format!("addmod({x}, sub(R, {}), R)", self.wpow(r)));
        }
        let zdiff0 = dens.len();
        dens.push(self.zdiff(&self.plan.sets[0].rotations));
        // 1/(x·ω^lo − x·ω^hi) = x⁻¹ · 1/(ω^lo − ω^hi), the latter from the key.
        let xinv = dens.len();
        dens.push(x.clone());
        let inv = Inverses {
            scratch: mem.scratch,
            zdiff0,
            xinv,
            fixed: dens.len(),
        };
        let (nfixed, slot0) = (inv.fixed, inv.slot(0));
        for (i, d) in dens.iter().enumerate() {
            self.line(format!("mstore({}, {d})", inv.slot(i)));
        }
        self.line(format!("{{ let w := 1 for {{ let i := 0 }} lt(i, n_inst) {{ i := add(i, 1) }} {{ mstore(add({}, shl(5, i)), addmod({x}, sub(R, w), R)) w := mulmod(w, {}, R) }} }}", inv.slot(nfixed), self.vkw(vk::word::OMEGA)));
        // Montgomery's batch inversion, with one modexp: prefix products after the
        // denominators; the known ones unrolled, the instances' in a loop.
        self.line("{");
        self.line(format!(
            "    let q := add({slot0}, shl(5, add({nfixed}, n_inst)))"
        ));
        self.line("    let acc := 1");
        for i in 0..nfixed {
            self.line(format!(
                "    mstore(add(q, {:#x}), acc) acc := mulmod(acc, mload({}), R)",
                32 * i,
                inv.slot(i)
            ));
        }
        self.line(format!("    for {{ let i := {nfixed} }} lt(i, add({nfixed}, n_inst)) {{ i := add(i, 1) }} {{ mstore(add(q, shl(5, i)), acc) acc := mulmod(acc, mload(add({slot0}, shl(5, i))), R) }}"));
        self.line("    if iszero(acc) { fail_InvalidScalar() }");
        self.line(format!(
            "    let m := add(q, shl(5, add({nfixed}, n_inst)))"
        ));
        self.line("    mstore(m, 0x20) mstore(add(m, 0x20), 0x20) mstore(add(m, 0x40), 0x20)");
        self.line(
            "    mstore(add(m, 0x60), acc) mstore(add(m, 0x80), sub(R, 2)) mstore(add(m, 0xa0), R)",
        );
        self.line(
            "    if iszero(staticcall(gas(), 0x05, m, 0xc0, m, 0x20)) { fail_PrecompileFailed() }",
        );
        self.line("    let inv := mload(m)");
        self.line(format!("    for {{ let i := add({nfixed}, n_inst) }} gt(i, {nfixed}) {{}} {{ i := sub(i, 1) let a := add({slot0}, shl(5, i)) let v := mload(a) mstore(a, mulmod(inv, mload(add(q, shl(5, i))), R)) inv := mulmod(inv, v, R) }}"));
        for i in (0..nfixed).rev() {
            self.line(format!(
                "    {{ let v := mload({s}) mstore({s}, mulmod(inv, mload(add(q, {:#x})), R)) inv := mulmod(inv, v, R) }}",
                32 * i,
                s = inv.slot(i)
            ));
        }
        self.line("}");
        // x^{-e} for every e a rotation set's interpolation needs.
        for e in 1..self.plan.max_set_len() {
            let prev = if e == 1 {
                "1".to_string()
            } else {
                mem.get(&format!("XINV_{}", e - 1))
            };
            self.line(format!(
                "mstore({}, mulmod({prev}, mload({}), R))",
                mem.at(&format!("XINV_{e}")),
                inv.slot(inv.xinv)
            ));
        }
        inv
    }

    /// Step 5: the Lagrange values the constraints read (`l_0`, `l_last`, the blinded rows'
    /// sum, `1 − l_last − l_blind`), the instance column's value at `x`, and `β·x`.
    fn lagrange(&mut self, inv: &Inverses) {
        let mem = self.mem;
        let b = self.blinding;
        self.line("// 5. Lagrange values: l_r(x) = ω^r·(xⁿ − 1)/n/(x − ω^r).");
        self.line(format!(
            "mstore({}, mulmod(addmod({}, sub(R, 1), R), {}, R))",
            mem.at("LAGRANGE_COMMON"),
            mem.get("XN"),
            self.vkw(vk::word::N_INV)
        ));
        let common = mem.get("LAGRANGE_COMMON");
        let l = |r: i32| {
            format!(
                "mulmod(mulmod({}, {common}, R), mload({}), R)",
                self.wpow(r),
                inv.slot(self.x_minus_omega(r))
            )
        };
        let (l_last, l_0) = (l(-(b + 1)), l(0));
        self.line(format!("mstore({}, {l_last})", mem.at("L_LAST")));
        self.line(format!("mstore({}, {l_0})", mem.at("L_0")));
        // Σ_r ω^r/(x − ω^r), times the common factor once.
        let blind = (-b..0)
            .map(|r| {
                format!(
                    "mulmod({}, mload({}), R)",
                    self.wpow(r),
                    inv.slot(self.x_minus_omega(r))
                )
            })
            .reduce(|acc, t| format!("addmod({acc}, {t}, R)"))
            .expect("halo2 has blinding rows");
        self.line(format!(
            "mstore({}, mulmod({blind}, {common}, R))",
            mem.at("L_BLIND")
        ));
        self.line(format!(
            "mstore({}, addmod(1, sub(R, addmod({}, {}, R)), R))",
            mem.at("ACTIVE"),
            mem.get("L_LAST"),
            mem.get("L_BLIND")
        ));
        self.line(format!("{{ let acc := 0 let w := 1 for {{ let i := 0 }} lt(i, n_inst) {{ i := add(i, 1) }} {{ acc := addmod(acc, mulmod(mulmod(calldataload(add(instances.offset, shl(5, i))), w, R), mload(add({}, shl(5, i))), R), R) w := mulmod(w, {}, R) }} mstore({}, mulmod(acc, {common}, R)) }}", inv.slot(inv.fixed), self.vkw(vk::word::OMEGA), mem.at("INSTANCE_EVAL")));
        self.line(format!(
            "mstore({}, mulmod({}, {}, R))",
            mem.at("BETA_X"),
            mem.get("BETA"),
            mem.get("X")
        ));
    }
}
