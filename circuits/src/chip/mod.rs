//! The columns, gates and lookup table shared by every op, and the row allocator that lays
//! ops out.
//!
//! One row format serves all ops (a PLONKish "standard gate" widened to [`LANES`] lanes plus
//! an accumulator `z`). A *layout row* is laid out **tall**: a block of [`BLOCK`] consecutive
//! cells of the one advice column `a` (lane `j` at the block's row `p + j`, `z` at
//! `p + LANES`), which the gates read through rotations; `z_next` is the next block's `z`.
//! The gates' fixed values live in the block's rows too: `coef` holds the lanes' factors and
//! the constant (rows `p .. p + 5`), `sel` the selectors `chain`, `prod`, `max` (rows
//! `p .. p + 2`), and `q = 1` on the block's first row turns its gates on ([`Coef`]).
//!
//! * **linear**: `q·(Σ f_j·x_j + c + [prod=1]·x3·x4 + [prod=2]·(x0·x1 + x2·x3) + [chain=2]·z
//!   − [chain≠0]·z_next) = 0`. Dot products chain blocks through `z` (weights are fixed
//!   cells, so they are baked into the verifying key); range rows use it to tie limbs to the
//!   value they decompose; `prod = 1` adds a product (`z_next = x3·x4 + …`), `prod = 2` two
//!   products of computed values per row (attention's `Q·Kᵀ`); a constant is a row `x3 = c`.
//! * **max chain**: `q·m·(z_next − (x3 − x4)·((m − 1)·z + 2 − m)) = 0` for `m ∈ {0, 1, 2}`, a
//!   running product that proves `y` equals one of the candidates of a max.
//! * **one lookup, every row of `a`**: `(t, (t + q_lk)·a, t·a_next)` in a three-column table.
//!   With `q_lk = 1` (`t = 0`) it is the limb entry `(0, a, 0)`: lanes `0..LIMBS` of a range
//!   row hold [`LIMB_BITS`]-bit limbs, so a value decomposed in one row is range-checked to
//!   `[0, 2^RANGE_BITS)`. With a function tag `t = ftag ≠ 0` on lane 2 of a function row it
//!   is `(t, t·x, t·y)` (x in lane 2, y in lane 3); a second output `y2` sits in lane 1 and
//!   is looked up as `(t + 1, (t + 1)·y2, (t + 1)·x)` in the second output's table. A
//!   function row holds no limbs.
//!
//! Every column costs the EVM verifier a commitment, so the layout keeps them few: one advice
//! column, one lookup, one permutation column, six fixed columns and the three table columns
//! (see `docs/evm.md`). The price is rows: `BLOCK` circuit rows per layout row.
//!
//! The first circuit rows bind the public instances: on public row `i`,
//! `public·(x_A − instance) = 0` with `public = 1` (on every other row `public = 0`, so the
//! instance column is read nowhere else and a verifier must check the instance count), with the
//! cell at `i + LANE_A`; the blocks start after them. A gadget never assigns `z` on its first
//! row, so consecutive gadgets pack without gaps.

mod config;
mod ctx;

pub use config::{ChipConfig, Coef};
pub use ctx::{Ctx, Wire};

/// The circuit row of `slot` (a lane, or `LANES` for `z`) of layout row `row` (counted from
/// the first circuit row, public rows included) in a circuit with `public` public rows.
/// Public row `i` is circuit row `i` (its cell in lane A is `i + LANE_A`); the blocks follow,
/// from the first row after the public rows' cells.
pub fn circuit_row(public: usize, row: usize, slot: usize) -> usize {
    if row < public {
        row + slot
    } else {
        public + LANE_A + (row - public) * BLOCK + slot
    }
}

/// Advice lanes per row.
pub const LANES: usize = 5;
/// Cells of the advice column per row of lanes: the lanes, then `z`.
pub const BLOCK: usize = LANES + 1;
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
pub const LANE_A: usize = LIMBS;
/// Lane of the second operand of range, max and mul rows.
pub const LANE_B: usize = LIMBS + 1;
/// Lanes of a function row's input and output: the last limb lane and lane A (a function row
/// holds no limbs).
pub const FN_LANES: [usize; 2] = [LIMBS - 1, LANE_A];
/// Lane of a function row's second output, just before its input: looked up as `(y2, x)`.
pub const SECOND_LANE: usize = LIMBS - 2;
