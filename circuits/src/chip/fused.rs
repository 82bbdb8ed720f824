//! The wide layout's *rescale-max* unit: a rescale by `2^`[`FUSED_SHIFT`] laid out inside
//! the max pooling (or ReLU) that reads it, so the rescaled values never get cells of their
//! own.
//!
//! A unit proves `y = max(0, round(x_1 / 2^s), …, round(x_n / 2^s))` for `n` accumulators
//! `x_i` (copies of a convolution's outputs), `n` one of [`FUSED_SHAPES`]: with `D_i`, `R_i`
//! and `Y` the values of the limbs of `d_i`, `r_i` and `y` (each limb looked up in
//! `[0, 2^8)`, so `D_i, Y ∈ [0, 2^24)` and `R_i ∈ [0, 2^16)`), one gate states
//!
//! * `y = Y` (the output cell is its limbs' value);
//! * `x_i + 2^(s−1) = (y − D_i)·2^s + R_i` for every candidate: `y_i = y − D_i` is the
//!   rescaled candidate (the unique one, both sides being integers far below the field's
//!   size), and `y ≥ y_i`;
//! * `y·D_1·…·D_n = 0` (through one product cell `p = y·D_1·D_2` for four candidates, so
//!   that no constraint passes degree 5): `y` is 0 or one of the `y_i`.
//!
//! These are the constraints of the rescale rows (trusting the max to bound their output)
//! and of the max rows over `{y_i} ∪ {0}`, with the same bounds, so the unit proves exactly
//! what the two ops prove laid out one after the other — in 30 cells for a 2×2 pooling
//! window instead of 4 rescale rows and 5 max rows (54 cells), in 12 for a ReLU instead of
//! 18. A unit never uses the `z` cell of its first layout row, where the gadget before it
//! may have put its result (the layout's rule that consecutive gadgets share that cell).

use super::unit::{cell_offset, having, indicators, limb_value, product_cells, vanishing_product};
use super::{BLOCK, LIMB_BITS};
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::plonk::{Advice, Column, ConstraintSystem, Expression, Fixed};
use halo2_axiom::poly::Rotation;

/// The rescale a unit divides by: `2^FUSED_SHIFT`, the remainder in two limbs.
pub const FUSED_SHIFT: u32 = 2 * LIMB_BITS;
/// The candidate counts a unit can have, besides the constant 0 every unit holds: a 2×2
/// max pooling after a ReLU (selector value 1), a ReLU (selector value 2).
pub const FUSED_SHAPES: [usize; 2] = [4, 1];
/// Limbs of a remainder (`R_i ∈ [0, 2^FUSED_SHIFT)`).
const REM_LIMBS: usize = (FUSED_SHIFT / LIMB_BITS) as usize;
/// Limbs of `y` and of each difference `D_i` (`[0, 2^24)`).
const VAL_LIMBS: usize = 3;
/// Cells of one candidate: `x`, the remainder's limbs, the difference's limbs.
const PER_CAND: usize = 1 + REM_LIMBS + VAL_LIMBS;

/// Where the cells of a unit with `n` candidates sit, as offsets from its first cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FusedUnit {
    /// Candidates (one of [`FUSED_SHAPES`]).
    pub n: usize,
}

impl FusedUnit {
    /// The unit of `n` candidates, if `n` is one of [`FUSED_SHAPES`].
    pub fn of(n: usize) -> Option<Self> {
        FUSED_SHAPES.contains(&n).then_some(Self { n })
    }

    /// The value of the selector column on a unit's first row.
    pub fn selector(self) -> u64 {
        super::unit::selector(FUSED_SHAPES, self.n)
    }

    /// The output `y`.
    pub fn y(self) -> usize {
        cell_offset(0)
    }

    /// Limb `j` of `y`.
    pub fn y_limb(self, j: usize) -> usize {
        cell_offset(1 + j)
    }

    fn cand(self, i: usize, k: usize) -> usize {
        debug_assert!(i < self.n);
        cell_offset(1 + VAL_LIMBS + PER_CAND * i + k)
    }

    /// Candidate `i`'s accumulator `x_i` (a copy).
    pub fn x(self, i: usize) -> usize {
        self.cand(i, 0)
    }

    /// Limb `j` of candidate `i`'s remainder.
    pub fn r_limb(self, i: usize, j: usize) -> usize {
        self.cand(i, 1 + j)
    }

    /// Limb `j` of candidate `i`'s difference `y − y_i`.
    pub fn d_limb(self, i: usize, j: usize) -> usize {
        self.cand(i, 1 + REM_LIMBS + j)
    }

    /// Product cells: the running product `y·D_1·D_2·…` two factors at a time, while more
    /// than two factors remain after it.
    pub fn products(self) -> usize {
        product_cells(self.n + 1)
    }

    /// Product cell `k`.
    pub fn product(self, k: usize) -> usize {
        debug_assert!(k < self.products());
        cell_offset(1 + VAL_LIMBS + PER_CAND * self.n + k)
    }

    /// The offsets of every limb cell (looked up in the limb table).
    pub fn limbs(self) -> impl Iterator<Item = usize> {
        let y = (0..VAL_LIMBS).map(move |j| self.y_limb(j));
        let cands = (0..self.n).flat_map(move |i| {
            let r = (0..REM_LIMBS).map(move |j| self.r_limb(i, j));
            r.chain((0..VAL_LIMBS).map(move |j| self.d_limb(i, j)))
        });
        y.chain(cands)
    }

    /// Layout rows the unit spans.
    pub fn rows(self) -> usize {
        self.cells().div_ceil(BLOCK)
    }

    /// Cells from the unit's first to its last, inclusive: its span in a split circuit's
    /// unit column.
    pub fn cells(self) -> usize {
        cell_offset(1 + VAL_LIMBS + PER_CAND * self.n + self.products() - 1) + 1
    }
}

/// A constant expression.
fn k(v: u64) -> Expression<Fr> {
    Expression::Constant(Fr::from(v))
}

/// Registers the unit's gate over the cells of `column` (`a`, or a split circuit's `b`),
/// turned on by `q` (see the [module docs](self)).
pub fn configure(meta: &mut ConstraintSystem<Fr>, column: Column<Advice>, q: Column<Fixed>) {
    meta.create_gate("rescale max", |mq| {
        let on = indicators(&mq.query_fixed(q, Rotation::cur()));
        let mut cell = |o: usize| mq.query_advice(column, Rotation(o as i32));
        // Every shape's cells sit at the same offsets: a constraint of `y` or of candidate
        // `i` is stated once, on for every shape that has it.
        let widest = FusedUnit {
            n: FUSED_SHAPES.into_iter().max().expect("a shape"),
        };
        let y = cell(widest.y());
        let y_limbs = (0..VAL_LIMBS).map(|j| cell(widest.y_limb(j))).collect();
        let all = having(FUSED_SHAPES, &on, None);
        let mut constraints = vec![all * (y.clone() - limb_value(y_limbs))];
        let mut d = Vec::new();
        for i in 0..widest.n {
            let x = cell(widest.x(i));
            let r = limb_value((0..REM_LIMBS).map(|j| cell(widest.r_limb(i, j))).collect());
            d.push(limb_value(
                (0..VAL_LIMBS).map(|j| cell(widest.d_limb(i, j))).collect(),
            ));
            // x + 2^(s−1) − (y − D)·2^s − R = 0. Degree 3.
            let rescaled = x + k(1 << (FUSED_SHIFT - 1))
                - (y.clone() - d[i].clone()) * k(1 << FUSED_SHIFT)
                - r;
            constraints.push(having(FUSED_SHAPES, &on, Some(i)) * rescaled);
        }
        for (shape, on) in FUSED_SHAPES.into_iter().zip(on) {
            // y·D_1·…·D_n = 0. Degree 5.
            let unit = FusedUnit { n: shape };
            let factors = std::iter::once(y.clone()).chain(d[..shape].iter().cloned());
            constraints.extend(vanishing_product(&on, factors.collect(), |p| {
                cell(unit.product(p))
            }));
        }
        constraints
    });
}

#[cfg(test)]
mod tests {
    use super::{FusedUnit, FUSED_SHAPES};
    use crate::chip::{BLOCK, LANES};

    #[test]
    fn cells_are_distinct_skip_the_first_z_and_fit_the_rows() {
        for n in FUSED_SHAPES {
            let u = FusedUnit::of(n).unwrap();
            let mut cells = vec![u.y()];
            cells.extend(u.limbs());
            cells.extend((0..n).map(|i| u.x(i)));
            cells.extend((0..u.products()).map(|p| u.product(p)));
            let count = cells.len();
            cells.sort();
            cells.dedup();
            assert_eq!(cells.len(), count, "n = {n}");
            assert!(!cells.contains(&LANES));
            assert!(*cells.last().unwrap() < u.rows() * BLOCK);
            assert!(u.rows() * BLOCK - count <= BLOCK, "n = {n}: a row to spare");
        }
        assert_eq!(FusedUnit::of(4).unwrap().rows(), 5);
        assert_eq!(FusedUnit::of(1).unwrap().rows(), 2);
        assert_eq!(FusedUnit::of(2), None);
    }
}
