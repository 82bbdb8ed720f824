//! The wide layout's *requant unit*: a requantization in 12 cells instead of three layout
//! rows (18), and a 2×2 max pooling over accumulators with the requantization that reads it
//! (`Requant(Max(acc))`, the form `onnx-import` gives a pooled int8 graph) in 30 cells
//! instead of 42.
//!
//! A unit with `n` candidates, `n` one of [`REQUANT_SHAPES`], holds `(hi, y, lo)` looked up
//! in the requantization's table (as a function row does: `(t + 1, (t + 1)·hi, (t + 1)·y)`
//! and `(t, t·y, t·lo)`), the accumulator `m` it requantizes, and the limbs of `L = m − lo`
//! and `H = hi − m` (each limb looked up in `[0, 2^8)`). One gate states
//!
//! * `m − lo − L = 0` and `hi − m − H = 0`: `lo ≤ m ≤ hi`, so `y` is `m`'s requantization
//!   (the buckets `[lo, hi]` partition the accumulators, `ops::Requant`);
//! * with no candidates, `m` is a copy of the accumulator;
//! * with four, `m − x_i − D_i = 0` for each candidate `x_i` (a copy of an accumulator) and
//!   the limbs of `D_i`, and `D_1·D_2·D_3·D_4 = 0` (through one product cell `p =
//!   D_1·D_2·D_3`): `m = max(x_i)`.
//!
//! These are the constraints of the requantization's three rows and of the max's rows, with
//! the same bounds, so a unit proves exactly what the ops prove laid out apart. Like every
//! unit it never uses the `z` cell of its first layout row.

use super::unit::{cell_offset, having, indicators, limb_value, product_cells, vanishing_product};
use super::BLOCK;
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::plonk::{Advice, Column, ConstraintSystem, Fixed};
use halo2_axiom::poly::Rotation;

/// The candidate counts a requant unit can have: a 2×2 max pooling's four (selector value
/// 1), none (a requantization alone, selector value 2).
pub const REQUANT_SHAPES: [usize; 2] = [4, 0];
/// Limbs of each range-checked difference (`[0, 2^24)`).
const LIMBS: usize = 3;

/// Where the cells of a requant unit with `n` candidates sit, as offsets from its first cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequantUnit {
    /// Candidates (one of [`REQUANT_SHAPES`]).
    pub n: usize,
}

impl RequantUnit {
    /// The unit of `n` candidates, if `n` is one of [`REQUANT_SHAPES`].
    pub fn of(n: usize) -> Option<Self> {
        REQUANT_SHAPES.contains(&n).then_some(Self { n })
    }

    /// The value of the selector column on a unit's first row.
    pub fn selector(self) -> u64 {
        super::unit::selector(REQUANT_SHAPES, self.n)
    }

    /// `hi`, the bucket's last accumulator (looked up with tag `t + 1`, `y` after it).
    pub fn hi(self) -> usize {
        cell_offset(0)
    }

    /// `y`, the output (looked up with tag `t`, `lo` after it).
    pub fn y(self) -> usize {
        cell_offset(1)
    }

    /// `lo`, the bucket's first accumulator.
    pub fn lo(self) -> usize {
        cell_offset(2)
    }

    /// `m`, the accumulator requantized.
    pub fn m(self) -> usize {
        cell_offset(3)
    }

    /// Limb `j` of `L = m − lo`.
    pub fn low_limb(self, j: usize) -> usize {
        cell_offset(4 + j)
    }

    /// Limb `j` of `H = hi − m`.
    pub fn high_limb(self, j: usize) -> usize {
        cell_offset(4 + LIMBS + j)
    }

    fn cand(self, i: usize, k: usize) -> usize {
        debug_assert!(i < self.n);
        cell_offset(4 + 2 * LIMBS + (1 + LIMBS) * i + k)
    }

    /// Candidate `i`'s accumulator (a copy).
    pub fn x(self, i: usize) -> usize {
        self.cand(i, 0)
    }

    /// Limb `j` of candidate `i`'s difference `m − x_i`.
    pub fn d_limb(self, i: usize, j: usize) -> usize {
        self.cand(i, 1 + j)
    }

    /// Product cells: the running product of the differences, three factors first, then
    /// two more a cell, while more than two factors remain after it.
    pub fn products(self) -> usize {
        product_cells(self.n)
    }

    /// Product cell `k`.
    pub fn product(self, k: usize) -> usize {
        debug_assert!(k < self.products());
        cell_offset(4 + 2 * LIMBS + (1 + LIMBS) * self.n + k)
    }

    /// Cells the unit uses.
    fn cells(self) -> usize {
        4 + 2 * LIMBS + (1 + LIMBS) * self.n + self.products()
    }

    /// The offsets of every limb cell (looked up in the limb table).
    pub fn limbs(self) -> impl Iterator<Item = usize> {
        let own = (0..LIMBS).flat_map(move |j| [self.low_limb(j), self.high_limb(j)]);
        let cands = (0..self.n).flat_map(move |i| (0..LIMBS).map(move |j| self.d_limb(i, j)));
        own.chain(cands)
    }

    /// Layout rows the unit spans.
    pub fn rows(self) -> usize {
        (cell_offset(self.cells() - 1) + 1).div_ceil(BLOCK)
    }
}

/// Registers the unit's gate, turned on by `q` (see the [module docs](self)). The lookups of
/// `(hi, y, lo)` are the one lookup argument's, tagged by the layout.
pub fn configure(meta: &mut ConstraintSystem<Fr>, a: Column<Advice>, q: Column<Fixed>) {
    meta.create_gate("requant unit", |mq| {
        let on = indicators(&mq.query_fixed(q, Rotation::cur()));
        let mut cell = |o: usize| mq.query_advice(a, Rotation(o as i32));
        // Every shape's cells sit at the same offsets: a constraint of the bucket or of
        // candidate `i` is stated once, on for every shape that has it.
        let widest = RequantUnit {
            n: REQUANT_SHAPES.into_iter().max().expect("a shape"),
        };
        let (hi, lo, m) = (cell(widest.hi()), cell(widest.lo()), cell(widest.m()));
        let low = limb_value((0..LIMBS).map(|j| cell(widest.low_limb(j))).collect());
        let high = limb_value((0..LIMBS).map(|j| cell(widest.high_limb(j))).collect());
        let all = having(REQUANT_SHAPES, &on, None);
        let mut constraints = vec![
            all.clone() * (m.clone() - lo - low),
            all * (hi - m.clone() - high),
        ];
        let mut d = Vec::new();
        for i in 0..widest.n {
            d.push(limb_value(
                (0..LIMBS).map(|j| cell(widest.d_limb(i, j))).collect(),
            ));
            let on_i = having(REQUANT_SHAPES, &on, Some(i));
            constraints.push(on_i * (m.clone() - cell(widest.x(i)) - d[i].clone()));
        }
        for (shape, on) in REQUANT_SHAPES.into_iter().zip(on) {
            if shape > 0 {
                // D_1·…·D_n = 0. Degree 5.
                let unit = RequantUnit { n: shape };
                constraints.extend(vanishing_product(&on, d[..shape].to_vec(), |p| {
                    cell(unit.product(p))
                }));
            }
        }
        constraints
    });
}

#[cfg(test)]
mod tests {
    use super::{RequantUnit, REQUANT_SHAPES};
    use crate::chip::{BLOCK, LANES};

    #[test]
    fn cells_are_distinct_skip_the_first_z_and_fit_the_rows() {
        for n in REQUANT_SHAPES {
            let u = RequantUnit::of(n).unwrap();
            let mut cells = vec![u.hi(), u.y(), u.lo(), u.m()];
            cells.extend(u.limbs());
            cells.extend((0..n).map(|i| u.x(i)));
            cells.extend((0..u.products()).map(|p| u.product(p)));
            let count = cells.len();
            assert_eq!(count, u.cells());
            cells.sort();
            cells.dedup();
            assert_eq!(cells.len(), count, "n = {n}");
            assert!(!cells.contains(&LANES));
            assert!(*cells.last().unwrap() < u.rows() * BLOCK);
            // The looked-up triple is consecutive: each lookup reads its cell and the next.
            assert_eq!((u.y(), u.lo()), (u.hi() + 1, u.hi() + 2));
        }
        assert_eq!(RequantUnit::of(4).unwrap().rows(), 5);
        assert_eq!(RequantUnit::of(0).unwrap().rows(), 2);
    }
}
