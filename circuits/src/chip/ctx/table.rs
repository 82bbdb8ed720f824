//! The function-table gadgets of [`Ctx`]: a plain lookup, requantization by buckets and
//! piecewise-linear interpolation, each built on a function row (lanes [`FN_LANES`] and
//! [`SECOND_LANE`]) of the one lookup argument.

use super::{Ctx, Wire};
use crate::chip::{
    lookup_rows, lookup_slot, Coef, FN_LANES, LANE_A, LANE_B, LIMBS, LIMB_BITS, RANGE_BITS,
    SECOND_LANE,
};

impl Ctx<'_, '_> {
    /// `y_i = f(x_i)` for each element, by lookups of `(tag, x_i, y_i)` packed up to three to
    /// a row ([`lookup_slot`]): a lookup reads only its cell and the next, and no gate is on
    /// in these rows. A function row's constraints for each, in a third of the cells. `table` must be one of the tables this context was built with.
    pub fn lookups(&mut self, xs: &[&Wire], ys: &[i128], table: &crate::ops::FnTable) -> Vec<Wire> {
        let tag = self.tag(table);
        let start = self.row;
        let wires = xs
            .iter()
            .zip(ys)
            .enumerate()
            .map(|(i, (x, y))| {
                let (r, lane) = lookup_slot(i);
                let row = start + r;
                self.lane(lane, row, x.value, Some(x));
                self.fixed_at(self.cfg.ftag, self.at(row, lane), tag);
                self.lane(lane + 1, row, *y, None)
            })
            .collect();
        self.row = start + lookup_rows(xs.len());
        wires
    }

    /// `f_i = f(y_i)` for `y_i = round(x_i / 2^shift)` (`shift` a multiple of the limb width),
    /// each element in one row: the rescale's range row (the remainder's limbs, `x_i` in lane
    /// A, `y_i` in lane B; no range check of `y_i`, which the lookup bounds) with `f_i` in its
    /// `z`, looked up with `y_i` as `(t, t·y_i, t·f_i)`. The first element's `z` may be the
    /// previous gadget's: its lookup takes a row of its own after the others
    /// ([`Ctx::lookups`]). The same constraints as the rescale's rows and the lookup's, in
    /// fewer cells. Returns the `f_i` cells.
    pub fn rescale_lookups(
        &mut self,
        xs: &[&Wire],
        shift: u32,
        (ys, fs): (&[i128], &[i128]),
        table: &crate::ops::FnTable,
    ) -> Vec<Wire> {
        debug_assert!(shift.is_multiple_of(LIMB_BITS) && shift <= RANGE_BITS);
        let tag = self.tag(table);
        let mut first = None;
        let mut out = Vec::with_capacity(xs.len());
        for (i, ((x, y), f)) in xs.iter().zip(ys).zip(fs).enumerate() {
            let row = self.row;
            // One range row (the shift is whole limbs), `y` in its lane B.
            let yw = self.rescale(x, shift, *y, false);
            if i == 0 {
                first = Some(yw);
                continue;
            }
            self.fixed_at(self.cfg.ftag, self.at(row, LANE_B), tag);
            out.push(self.lane(LANE_B + 1, row, *f, None));
        }
        if let Some(y0) = first {
            out.insert(0, self.lookups(&[&y0], &fs[..1], table)[0]);
        }
        out
    }

    /// The tag of a registered function table (its second output's is the next one).
    pub(super) fn tag(&self, table: &crate::ops::FnTable) -> i128 {
        let i = self
            .tables
            .iter()
            .position(|t| t == table)
            .expect("every lookup table is registered with the circuit");
        self.tags[i]
    }

    /// `y` with `lo(y) ≤ acc ≤ hi(y)`, in three rows: the first looks up `(y, lo, hi)` in the
    /// table (a function row), the second range-checks `acc − lo`, the third `hi − acc`.
    /// The table's buckets partition the accumulators, so `y` is unique (see
    /// [`crate::ops::Requant`]).
    pub fn requant(&mut self, acc: &Wire, y: i128, table: &crate::ops::FnTable) -> Wire {
        let k = (y - i128::from(table.in_min)) as usize;
        let (lo, hi) = (i128::from(table.values[k]), i128::from(table.second[k]));
        let [yw, low, high] = self.function_row(table, [y, lo, hi]);
        self.range_row(
            acc.value - lo,
            RANGE_BITS,
            &[
                (LANE_A, lo, Some(&low), -1),
                (LANE_B, acc.value, Some(acc), 1),
            ],
            0,
        );
        self.range_row(
            hi - acc.value,
            RANGE_BITS,
            &[
                (LANE_A, hi, Some(&high), 1),
                (LANE_B, acc.value, Some(acc), -1),
            ],
            0,
        );
        yw
    }

    /// A row that looks `(x, y)` up in `table` (lanes `FN_LANES`) and `(y2, x)` in its second
    /// output's table (lane `SECOND_LANE`, then `x`), and nothing else: the function lookup
    /// shares its argument with the limbs', so a row never does both. A table without a
    /// second output has `y2 = 0`: the constant zero.
    fn function_row(&mut self, table: &crate::ops::FnTable, values: [i128; 3]) -> [Wire; 3] {
        let tag = self.tag(table);
        let zero = (!table.has_second()).then(|| self.zero());
        let row = self.row;
        self.fixed_at(self.cfg.ftag, self.at(row, FN_LANES[0]), tag);
        self.row += 1;
        let x = self.lane(FN_LANES[0], row, values[0], None);
        let y = self.lane(FN_LANES[1], row, values[1], None);
        let y2 = match zero {
            Some(z) => {
                debug_assert_eq!(values[2], 0);
                z
            }
            None => {
                self.fixed_at(self.cfg.ftag, self.at(row, SECOND_LANE), tag + 1);
                self.lane(SECOND_LANE, row, values[2], None)
            }
        };
        [x, y, y2]
    }

    /// `y = round((x·d_h + e_h) / 2^out_shift)` on `x`'s segment (see [`crate::ops::Interp`]):
    /// a row looks `(h, e_h, d_h)` up, a range row splits `x − x_min = h·2^seg_bits + l`
    /// (limbs of `l`; a second row bounds `l` when `seg_bits` is not a multiple of the limb
    /// width); a product row puts `p = x·d_h + e_h` in `z`, the next row range-checks the
    /// remainder `p + half − y·2^out_shift` (`out_shift` is a multiple of the limb width, so
    /// one row does it); `y` is then range-checked as a signed value.
    pub fn interp(&mut self, x: &Wire, y: i128, op: &crate::ops::Interp) -> Wire {
        // A value outside the segments only comes from a blank (keygen) circuit, whose cells
        // are never checked: lay the same rows out with in-range stand-ins.
        let (h, e, d) = op.segment(x.value).unwrap_or_else(|| {
            let s = &op.table;
            (
                0,
                s.values[0].into(),
                s.second.first().copied().unwrap_or(0).into(),
            )
        });
        let (b, sh) = (op.seg_bits, op.out_shift);
        let x_min = i128::from(op.x_min);
        let l = (x.value - x_min - (h << b)).clamp(0, (1i128 << b) - 1);
        let [hw, ew, dw] = self.function_row(&op.table, [h, e, d]);
        let bits = b.next_multiple_of(LIMB_BITS);
        // l = x − 2^b·h − x_min
        let w = self.range_row(
            l,
            bits,
            &[
                (LANE_A, h, Some(&hw), -(1i128 << b)),
                (LANE_B, x.value, Some(x), 1),
            ],
            -x_min,
        );
        let xw = w[1];
        if bits != b {
            // 2^b − 1 − l = 2^b·h − x + 2^b − 1 + x_min
            self.range_row(
                (1i128 << b) - 1 - l,
                bits,
                &[
                    (LANE_A, h, Some(&hw), 1i128 << b),
                    (LANE_B, x.value, Some(&xw), -1),
                ],
                (1i128 << b) - 1 + x_min,
            );
        }
        // p = x·d + e in z on the next row, by the linear gate's product term; then
        // r = p + half − 2^sh·y range-checked (out_shift is a multiple of the limb width).
        debug_assert!(sh.is_multiple_of(LIMB_BITS));
        let (dd, half) = (1i128 << sh, 1i128 << (sh - 1));
        let row = self.row;
        self.lane(LANE_A, row, x.value, Some(&xw));
        self.lane(LANE_B, row, d, Some(&dw));
        // Lane LIMBS − 1 is free on a row without limbs.
        self.lane(LIMBS - 1, row, e, Some(&ew));
        self.coef(Coef::Lane(LIMBS - 1), row, 1);
        self.product_row(row);
        self.row += 1;
        let p = self.z(row + 1, x.value * d + e);
        let r = (p.value + half - y * dd).clamp(0, dd - 1);
        let w = self.range_row(
            r,
            sh,
            &[(LANE_A, y, None, -dd), (LANE_B, p.value, Some(&p), 1)],
            half,
        );
        self.check_signed(&w[0])
    }
}
