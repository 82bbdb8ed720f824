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
//!   function row holds no limbs. A Lookup op's elements pack up to three `(x, y)` pairs to
//!   a row with `q = 0` (tags on the `x` cells: [`lookup_slot`]), since a lookup reads only
//!   its cell and the next.
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

//!
//! **The wide layout** ([`Layout::Wide`]) adds one gate for dot products that share their
//! inputs (a convolution's output channels at one position, a dense layer's outputs): a
//! *wide block* of [`WIDE_ROWS`] layout rows holds [`WIDE_OUT`] accumulators `z_o` (cells
//! `0 .. WIDE_OUT`) and [`WIDE_IN`] inputs `x_j` (the cells after them). Its outputs are
//! *packed* [`WIDE_PACK`] to a constraint: for each group `g` of outputs `o = PACK·g + i`,
//!
//! `q_w·(Σ_j W_gj·x_j + B_g + Σ_i 2^(PACK_BITS·i)·(cont·z_o − z'_o)) = 0`,
//!
//! where `z'_o` is cell `o` of the next wide block, `W_gj = Σ_i 2^(PACK_BITS·i)·w_oj` and
//! `B_g` are the group's weights and biases packed into one fixed cell each, and `cont` is 0
//! on a chain's first block ([`WideSlot`]). Summed along a chain, the constraints state
//! `Σ_i 2^(PACK_BITS·i)·E_o = 0` for the errors `E_o = z_o(final) − y_o` of a group's outputs
//! (the intermediate accumulators telescope away). The layout packs only outputs whose final
//! values are bounded below `2^`[`WIDE_BOUND_BITS`] by later nodes (the rescale,
//! requantization, ReLU, lookup, interpolation or max against a constant that reads them,
//! see `Graph::checked_bits`, or through an addition that ties them to bounded values, see
//! `Graph::packing_bounds`) and whose true values are below half of that (`Graph::bounds`,
//! a margin for its float rounding), and pins an unused output to zero by a copy: every
//! `|E_o| < 2^(PACK_BITS − 1)`, the packed sum is below the field's size, and so every `E_o = 0`
//! (`docs/soundness.md`). Each input cell serves `WIDE_OUT` multiply-accumulates, so a full
//! block costs `48 / 512 ≈ 0.094` circuit rows per multiply-accumulate against the tall
//! layout's `1.2`, at [`WIDE_GROUPS`] products per input per row of the quotient.
//!
//! The wide layout also has the *rescale-max unit* ([`FusedUnit`]): a rescale by
//! `2^`[`FUSED_SHIFT`] that a max pooling (over the constant 0 and four elements) or a ReLU
//! reads is laid out inside it, in 30 cells per window instead of 54 (12 per ReLU instead
//! of 18), proving the same (`ops::fused` decides which). Its *requant unit*
//! ([`RequantUnit`]) lays a requantization out in 12 cells instead of 18, and a 2×2 max
//! pooling over accumulators with the requantization that reads it in 30 instead of 42. Its
//! *rescale unit* ([`RescaleUnit`]) lays out five rescales by `2^16` with the range checks
//! of their outputs in 36 cells instead of 60. Where that lowers logrows, a circuit puts its
//! rescale and rescale-max units, and its signed inputs' range checks (as rescale units), in
//! an advice column of their own, `b` ([`ChipShape::split`], [`UnitColumn`]): one unit after
//! another from its row 0, read by the units' gates and by a limb lookup `(0, q_lk·b, 0)` of
//! its own, copies in and out through the permutation. The circuit's rows are then the
//! longer column's (cnn_cifar: 259,417 in `a`, logrows 18 instead of 19).
//!
//! The price is fixed columns more (the shared-input gate's selector and a column of packed
//! weights, and a selector for each unit the circuit uses), read at up to 48 rotations, and
//! 64 rotations of `a`, which make the
//! proof larger and its verification dearer: the layout for fast proving, not for gas.

mod config;
mod ctx;
mod fused;
mod requant_unit;
mod rescale_unit;
mod unit;

pub use config::{ChipConfig, Coef, UnitColumn, WideConfig, WideSlot};
pub use ctx::{Ctx, OutputBound, Wire};
pub use fused::{FusedUnit, FUSED_SHAPES, FUSED_SHIFT};
pub use requant_unit::{RequantUnit, REQUANT_SHAPES};
pub use rescale_unit::{
    RescaleUnit, RESCALE_UNIT_ELEMS, RESCALE_UNIT_MIN_ELEMS, RESCALE_UNIT_SHIFT,
};

/// What a circuit's constraint system holds: its layout and, in the wide layout, which
/// optional units' gates the graph's layout uses (a gate costs every row of the quotient,
/// used or not, so a circuit has only the gates it uses). The circuit's `Params`, derived
/// from its graph ([`Graph::chip_shape`](crate::Graph::chip_shape)); key files are read
/// with it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ChipShape {
    /// The layout.
    pub layout: Layout,
    /// Whether the rescale-max unit's gate is there ([`FusedUnit`]; wide layout only).
    pub rescale_max: bool,
    /// Whether the requant unit's gate is there ([`RequantUnit`]; wide layout only).
    pub requant: bool,
    /// Whether the rescale unit's gate is there ([`RescaleUnit`]; wide layout only).
    pub rescale: bool,
    /// Whether the rescale and rescale-max units sit in an advice column of their own, `b`,
    /// beside `a`, with the signed inputs' range checks (as rescale units: `Ctx::input_unit`):
    /// a circuit's rows are then those of the longer column.
    /// Compilation sets it where it lowers logrows
    /// ([`Graph::units_column`](crate::Graph::units_column)).
    pub split: bool,
}

impl From<Layout> for ChipShape {
    /// The layout's shape without optional gates.
    fn from(layout: Layout) -> Self {
        Self {
            layout,
            ..Self::default()
        }
    }
}

/// How the circuit lays out its cells: a compile choice, stored with the graph.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// The lean layout: fewest columns and rotations, the least verification gas.
    #[default]
    Tall,
    /// The tall layout plus the shared-input dot gate: fewer rows for models whose dot
    /// products share inputs (convolutions, dense layers), so faster proving, at the cost of
    /// a larger proof and dearer verification.
    Wide,
}

impl Layout {
    /// Whether this is the default layout (not written into settings, so a tall graph's
    /// settings are what they were before the wide layout existed).
    pub fn is_tall(&self) -> bool {
        *self == Layout::Tall
    }
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Layout::Tall => "tall",
            Layout::Wide => "wide",
        })
    }
}

impl std::str::FromStr for Layout {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tall" => Ok(Layout::Tall),
            "wide" => Ok(Layout::Wide),
            other => Err(format!("unknown layout {other:?}: expected tall or wide")),
        }
    }
}

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

/// Index of the advice column `a` among the circuit's advice columns (as halo2 numbers them,
/// and as soundness tests name a cell's column).
pub const COLUMN_A: usize = 0;
/// Index of a split circuit's unit column `b` ([`ChipShape::split`]).
pub const COLUMN_B: usize = 1;

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

/// Where element `i` of a run of packed lookups ([`Ctx::lookups`]) sits: its layout row,
/// counted from the run's first, and the lane of its input `x` (its output `y` is the next
/// cell, which the lookup reads with it). The first row holds two (lanes [`FN_LANES`], then 0
/// and 1: its `z` may be the previous gadget's result), every later row three (lanes 0–1,
/// 2–3, and 4 with `z`).
pub fn lookup_slot(i: usize) -> (usize, usize) {
    match i {
        0 => (0, FN_LANES[0]),
        1 => (0, 0),
        _ => (1 + (i - 2) / 3, 2 * ((i - 2) % 3)),
    }
}

/// Layout rows `n` packed lookups take ([`lookup_slot`]).
pub fn lookup_rows(n: usize) -> usize {
    n.checked_sub(1).map_or(0, |last| lookup_slot(last).0 + 1)
}

/// Accumulators of a wide block: the outputs one shared-input dot product computes at once.
pub const WIDE_OUT: usize = 16;
/// Input cells of a wide block.
pub const WIDE_IN: usize = 32;
/// Cells of a wide block: the accumulators, then the inputs.
pub const WIDE_CELLS: usize = WIDE_OUT + WIDE_IN;
/// Outputs of a wide block packed into one constraint.
pub const WIDE_PACK: usize = 4;
/// Constraints of a wide block: its groups of [`WIDE_PACK`] outputs.
pub const WIDE_GROUPS: usize = WIDE_OUT.div_ceil(WIDE_PACK);
/// Bits between two packed outputs: output `i` of a group is multiplied by `2^(PACK_BITS·i)`.
pub const PACK_BITS: u32 = 63;
/// A packed output's final value, and its true value, must be below `2^WIDE_BOUND_BITS` in
/// magnitude, so that their difference is below `2^(PACK_BITS − 1)`.
pub const WIDE_BOUND_BITS: u32 = PACK_BITS - 2;
/// Layout rows a wide block spans.
pub const WIDE_ROWS: usize = WIDE_CELLS / BLOCK;
/// Layout rows after a run of wide blocks that hold its outputs (the next wide block's
/// accumulator cells).
pub const WIDE_TAIL: usize = WIDE_OUT.div_ceil(BLOCK);
const _: () = assert!(WIDE_CELLS.is_multiple_of(BLOCK));
// A group's packed errors, each below 2^(PACK_BITS − 1), sum to less than the field's size
// (2^253): `(PACK_BITS − 1) + PACK_BITS·(WIDE_PACK − 1) + 1 ≤ 253`.
const _: () = assert!(PACK_BITS as usize * WIDE_PACK <= 253);
