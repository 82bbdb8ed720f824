//! The columns, gates and lookup table shared by every op, and the row allocator that lays
//! ops out.
//!
//! One wide row format serves all ops (a PLONKish "standard gate" widened to [`LANES`]
//! advice lanes plus an accumulator column `z`):
//!
//! * **linear**: `Σ f_j·x_j + c + [s=1]·x3·x4 + [s=2]·(x0·x1 + x2·x3) + [chain=2]·z
//!   − [chain≠0]·z_next = 0`, coefficients in fixed columns. Dot products chain rows through
//!   `z` (weights are fixed cells, so they are baked into the verifying key); range rows use
//!   it to tie limbs to the value they decompose; `s = 1` adds a product (`z_next = x3·x4 +
//!   …`), `s = 2` two products of computed values per row (attention's `Q·Kᵀ`); a constant
//!   is a row `x3 = c`.
//! * **max chain**: on `m ∈ {1, 2}`, `z_next = (x3 − x4)·((m − 1)·z + 2 − m)`, a running
//!   product that proves `y` equals one of the candidates of a max.
//! * **limb lookups**: lanes `0..LIMBS` hold [`LIMB_BITS`]-bit limbs, each looked up in the
//!   limb part of the table when `q_lk` is set. A value decomposed in one row is thus
//!   range-checked to `[0, 2^RANGE_BITS)`.
//! * **function lookup**: a row with tag `t = ftag ≠ 0` looks `(t, t·x2, t·x3, t·x4)` up in
//!   the table's part `t`. It shares its argument with the last limb's lookup: the tuple is
//!   `(t, (t + q_lk)·x2, t·x3, t·x4)`, so on a range row (`t = 0`) it is the limb entry
//!   `(0, x2, 0, 0)`; a function row holds no limbs (its values are range-checked on rows of
//!   their own).
//!
//! Every column costs the EVM verifier a commitment, so the layout keeps them few (see
//! `docs/evm.md`).
//!
//! Layout uses absolute rows in one region, the first ones binding the public instances
//! (`x3 − instance = 0` on the linear gate: the instance column is zero on every other row);
//! a gadget never assigns `z` on its first row, so consecutive gadgets pack without gaps.

mod config;
mod ctx;

pub use config::ChipConfig;
pub use ctx::{Ctx, Tamper, Wire};

/// Advice lanes per row.
pub const LANES: usize = 5;
/// Lanes whose cells can be looked up in the limb table.
pub const LIMBS: usize = 3;
/// Bits per limb; the lookup table holds `[0, 2^LIMB_BITS)`.
pub const LIMB_BITS: u32 = 8;
/// Bits one range row checks: a value in `[0, 2^RANGE_BITS)`.
pub const RANGE_BITS: u32 = LIMB_BITS * LIMBS as u32;
/// Signed values that are range-checked (inputs, rescaled activations) lie in
/// `[-ACT_BOUND, ACT_BOUND)`.
pub const ACT_BOUND: i128 = 1 << (RANGE_BITS - 1);
/// Lane of the first operand of range, max and mul rows.
pub(crate) const LANE_A: usize = LIMBS;
/// Lane of the second operand of range, max and mul rows.
pub(crate) const LANE_B: usize = LIMBS + 1;
/// Lanes of a function row's input, output and second output: the last limb lane and the two
/// operand lanes (a function row holds no limbs).
pub(crate) const FN_LANES: [usize; 3] = [LIMBS - 1, LANE_A, LANE_B];
