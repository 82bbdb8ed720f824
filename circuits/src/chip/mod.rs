//! The columns, gates and lookup table shared by every op, and the row allocator that lays
//! ops out.
//!
//! One wide row format serves all ops (a PLONKish "standard gate" widened to [`LANES`]
//! advice lanes plus an accumulator column `z`):
//!
//! * **linear**: `Σ f_j·x_j + fz·z + fnext·z_next + c = 0`, coefficients in fixed columns.
//!   Dot products chain rows through `z` (weights are fixed cells, so they are baked into
//!   the verifying key); range rows use it to tie limbs to the value they decompose.
//! * **max chain**: `q_max·(z_next − (x3 − x4)·(fp·z + 1 − fp)) = 0`, a running product that
//!   proves `y` equals one of the candidates of a max.
//! * **mul**: `q_mul·(z_next − x3·x4) = 0`.
//! * **bilinear**: `q_bil·(z_next − fp·z − Σ_j x_{2j}·x_{2j+1}) = 0`, inner products of two
//!   computed vectors (attention's `Q·Kᵀ`), four products per row.
//! * **limb lookups**: lanes `0..LIMBS` hold [`LIMB_BITS`]-bit limbs, each looked up in a
//!   table `[0, 2^LIMB_BITS)` when `q_lk` is set. A value decomposed in one row is thus
//!   range-checked to `[0, 2^RANGE_BITS)`.
//!
//! Layout uses absolute rows in one region; a gadget never assigns `z` on its first row,
//! so consecutive gadgets pack without gaps.

mod config;
mod ctx;

pub use config::ChipConfig;
pub use ctx::{Ctx, Tamper, Wire};

/// Advice lanes per row.
pub const LANES: usize = 8;
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
