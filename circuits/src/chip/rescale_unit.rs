//! The wide layout's *rescale unit*: [`RESCALE_UNIT_ELEMS`] rescales by
//! `2^`[`RESCALE_UNIT_SHIFT`], each with the range check of its output, in 36 cells instead
//! of two layout rows each (60 cells).
//!
//! For each element `i` the unit holds `x_i` (a copy of the value rescaled), the output
//! `y_i`, the two limbs of its remainder (value `R_i`) and the three limbs of `y_i + 2^23`
//! (value `Y_i`), each limb looked up in `[0, 2^8)`. One gate states, for every element,
//!
//! * `y_i = Y_i − 2^23`: `y_i ∈ [−2^23, 2^23)`, the range check of the rescale's output;
//! * `x_i + 2^15 = y_i·2^16 + R_i` with `R_i ∈ [0, 2^16)`: `y_i` is `x_i / 2^16` rounded
//!   half up (both sides are integers far below the field's size, so the equation holds
//!   over the integers and leaves one `y_i` in range).
//!
//! These are the constraints of a rescale's remainder row and of its output's range row
//! (`Ctx::rescale` with `check_y`), with the same bounds, so the unit proves exactly what
//! the rows prove. A rescale laid out in units puts its last `n mod 5` elements in those
//! rows; a circuit has the unit only where [`RESCALE_UNIT_MIN_ELEMS`] elements or more use
//! it. Like every unit it never uses the `z` cell of its first layout row.

use super::unit::{cell_offset, limb_value};
use super::{BLOCK, LIMB_BITS, RANGE_BITS};
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::plonk::{Advice, Column, ConstraintSystem, Expression, Fixed};
use halo2_axiom::poly::Rotation;

/// Elements a rescale unit rescales.
pub const RESCALE_UNIT_ELEMS: usize = 5;
/// The fewest elements a circuit's rescales must put in units for it to have the unit's
/// gate. A gate costs every row of the quotient, used or not: on cnn_cifar (logrows 19) the
/// gate for its 10 output logits took 48.2 s to prove against 45.3 without it, while 1,024
/// elements take 4,915 circuit rows off.
pub const RESCALE_UNIT_MIN_ELEMS: usize = 1024;
/// The shift of a unit's rescales: the remainder in two limbs.
pub const RESCALE_UNIT_SHIFT: u32 = 2 * LIMB_BITS;
/// Limbs of a remainder.
const REM_LIMBS: usize = (RESCALE_UNIT_SHIFT / LIMB_BITS) as usize;
/// Limbs of `y + 2^23`.
const OUT_LIMBS: usize = (RANGE_BITS / LIMB_BITS) as usize;
/// Cells of one element: `x`, `y`, the remainder's limbs, the output's limbs.
const PER_ELEM: usize = 2 + REM_LIMBS + OUT_LIMBS;

/// Where the cells of a rescale unit sit, as offsets from its first cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RescaleUnit;

impl RescaleUnit {
    /// Element `i`'s value rescaled, `x_i` (a copy).
    pub fn x(self, i: usize) -> usize {
        cell_offset(PER_ELEM * i)
    }

    /// Element `i`'s output `y_i`.
    pub fn y(self, i: usize) -> usize {
        cell_offset(PER_ELEM * i + 1)
    }

    /// Limb `j` of element `i`'s remainder.
    pub fn r_limb(self, i: usize, j: usize) -> usize {
        cell_offset(PER_ELEM * i + 2 + j)
    }

    /// Limb `j` of element `i`'s `y_i + 2^23`.
    pub fn y_limb(self, i: usize, j: usize) -> usize {
        cell_offset(PER_ELEM * i + 2 + REM_LIMBS + j)
    }

    /// The offsets of every limb cell (looked up in the limb table).
    pub fn limbs(self) -> impl Iterator<Item = usize> {
        (0..RESCALE_UNIT_ELEMS).flat_map(move |i| {
            let rem = (0..REM_LIMBS).map(move |j| self.r_limb(i, j));
            rem.chain((0..OUT_LIMBS).map(move |j| self.y_limb(i, j)))
        })
    }

    /// Layout rows the unit spans.
    pub fn rows(self) -> usize {
        self.cells().div_ceil(BLOCK)
    }

    /// Cells from the unit's first to its last, inclusive: its span in a split circuit's
    /// unit column.
    pub fn cells(self) -> usize {
        cell_offset(PER_ELEM * RESCALE_UNIT_ELEMS - 1) + 1
    }
}

/// Registers the unit's gate over the cells of `column` (`a`, or a split circuit's `b`),
/// turned on by `q` (see the [module docs](self)).
pub fn configure(meta: &mut ConstraintSystem<Fr>, column: Column<Advice>, q: Column<Fixed>) {
    meta.create_gate("rescale unit", |mq| {
        let on = mq.query_fixed(q, Rotation::cur());
        let mut cell = |o: usize| mq.query_advice(column, Rotation(o as i32));
        let unit = RescaleUnit;
        let c = |v: u64| Expression::Constant(Fr::from(v));
        let (offset, half, scale) = (
            c(1 << (RANGE_BITS - 1)),
            c(1 << (RESCALE_UNIT_SHIFT - 1)),
            c(1 << RESCALE_UNIT_SHIFT),
        );
        (0..RESCALE_UNIT_ELEMS)
            .flat_map(|i| {
                let (x, y) = (cell(unit.x(i)), cell(unit.y(i)));
                let rem = limb_value((0..REM_LIMBS).map(|j| cell(unit.r_limb(i, j))).collect());
                let out = limb_value((0..OUT_LIMBS).map(|j| cell(unit.y_limb(i, j))).collect());
                [
                    on.clone() * (y.clone() - out + offset.clone()),
                    on.clone() * (x + half.clone() - y * scale.clone() - rem),
                ]
            })
            .collect::<Vec<_>>()
    });
}

#[cfg(test)]
mod tests {
    use super::{RescaleUnit, RESCALE_UNIT_ELEMS};
    use crate::chip::{BLOCK, LANES};

    #[test]
    fn cells_are_distinct_skip_the_first_z_and_fill_the_rows() {
        let u = RescaleUnit;
        let mut cells: Vec<usize> = (0..RESCALE_UNIT_ELEMS)
            .flat_map(|i| [u.x(i), u.y(i)])
            .chain(u.limbs())
            .collect();
        let count = cells.len();
        cells.sort();
        cells.dedup();
        assert_eq!(cells.len(), count);
        assert!(!cells.contains(&LANES));
        assert_eq!(u.rows(), 6);
        assert_eq!(*cells.last().unwrap(), u.rows() * BLOCK - 1);
    }
}
