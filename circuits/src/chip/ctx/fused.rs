//! The rescale-max gadget of [`Ctx`] (the wide layout's [`FusedUnit`]).

use super::{Ctx, Wire};
use crate::chip::{FusedUnit, BLOCK, FUSED_SHIFT, LIMB_BITS};
use crate::field::to_field;
use halo2_axiom::halo2curves::bn256::Fr;

impl Ctx<'_, '_> {
    /// `y = max(0, round(x_1 / 2^FUSED_SHIFT), …)` over the accumulators `xs` in one
    /// rescale-max unit, given the rescaled candidates `ys` and `y` (the oracle's values).
    /// `xs.len()` must be one of [`FUSED_SHAPES`](crate::chip::FUSED_SHAPES); needs the wide
    /// layout. Returns `y`'s cell.
    pub fn rescale_max(&mut self, xs: &[&Wire], ys: &[i128], y: i128) -> Wire {
        let wide = self.cfg.wide.clone().expect("the wide layout");
        let unit = FusedUnit::of(xs.len()).expect("a fused shape");
        debug_assert_eq!(xs.len(), ys.len());
        let start = self.row;
        let base = self.at(start, 0);
        self.fixed_at(wide.fused, base, unit.selector() as i128);
        for o in unit.limbs() {
            self.fixed_at(self.cfg.q_lk, base + o, 1);
        }
        let cell = |ctx: &mut Self, o: usize, v: Fr| ctx.advice_fr(o % BLOCK, start + o / BLOCK, v);
        // An honest value is in range (the oracle checks it); a forged one is split as it
        // is, and its unit then fails.
        let limbs = |v: i128, n: usize| (0..n).map(move |j| (v >> (LIMB_BITS * j as u32)) & 0xff);
        let y_cell = cell(self, unit.y(), to_field(y));
        for (j, l) in limbs(y, 3).enumerate() {
            cell(self, unit.y_limb(j), to_field(l));
        }
        let (scale, half) = (1i128 << FUSED_SHIFT, 1i128 << (FUSED_SHIFT - 1));
        let mut factors = vec![to_field(y)];
        for (i, (x, yi)) in xs.iter().zip(ys).enumerate() {
            let xc = cell(self, unit.x(i), to_field(x.value));
            self.equal(x.cell, xc);
            let r = x.value + half - yi * scale;
            for (j, l) in limbs(r, (FUSED_SHIFT / LIMB_BITS) as usize).enumerate() {
                cell(self, unit.r_limb(i, j), to_field(l));
            }
            for (j, l) in limbs(y - yi, 3).enumerate() {
                cell(self, unit.d_limb(i, j), to_field(l));
            }
            factors.push(to_field(y - yi));
        }
        let mut rest = factors.into_iter();
        let mut acc = rest.next().expect("y");
        for p in 0..unit.products() {
            acc = acc * rest.next().expect("a factor") * rest.next().expect("a factor");
            cell(self, unit.product(p), acc);
        }
        self.row = start + unit.rows();
        Wire {
            cell: y_cell,
            value: y,
        }
    }
}
