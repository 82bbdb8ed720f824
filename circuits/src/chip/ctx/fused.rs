//! The rescale-max gadget of [`Ctx`] (the wide layout's [`FusedUnit`]).

use super::{Ctx, Wire};
use crate::chip::{FusedUnit, RequantUnit, BLOCK, FUSED_SHIFT, LIMB_BITS};
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
        let q = wide
            .fused
            .expect("the circuit's shape has the rescale-max unit");
        self.fixed_at(q, base, unit.selector() as i128);
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

impl Ctx<'_, '_> {
    /// `y`, the requantization (by `table`) of `m`, in one requant unit: `m` is the one
    /// accumulator in `accs`, or the maximum of four (a pooling before the requantization).
    /// `m` and `y` are the oracle's values. Needs the wide layout. Returns `y`'s cell.
    pub fn requant_unit(
        &mut self,
        accs: &[&Wire],
        m: i128,
        y: i128,
        table: &crate::ops::FnTable,
    ) -> Wire {
        let wide = self.cfg.wide.clone().expect("the wide layout");
        let n = if accs.len() == 1 { 0 } else { accs.len() };
        let unit = RequantUnit::of(n).expect("a requant shape");
        let tag = self.tag(table);
        let k = (y - i128::from(table.in_min)) as usize;
        let (lo, hi) = (i128::from(table.values[k]), i128::from(table.second[k]));
        let start = self.row;
        let base = self.at(start, 0);
        let q = wide
            .requant
            .expect("the circuit's shape has the requant unit");
        self.fixed_at(q, base, unit.selector() as i128);
        self.fixed_at(self.cfg.ftag, base + unit.hi(), tag + 1);
        self.fixed_at(self.cfg.ftag, base + unit.y(), tag);
        for o in unit.limbs() {
            self.fixed_at(self.cfg.q_lk, base + o, 1);
        }
        let cell = |ctx: &mut Self, o: usize, v: Fr| ctx.advice_fr(o % BLOCK, start + o / BLOCK, v);
        let limbs = |v: i128| (0..3).map(move |j| to_field((v >> (LIMB_BITS * j as u32)) & 0xff));
        cell(self, unit.hi(), to_field(hi));
        let y_cell = cell(self, unit.y(), to_field(y));
        cell(self, unit.lo(), to_field(lo));
        let m_cell = cell(self, unit.m(), to_field(m));
        for (j, (l, h)) in limbs(m - lo).zip(limbs(hi - m)).enumerate() {
            cell(self, unit.low_limb(j), l);
            cell(self, unit.high_limb(j), h);
        }
        if n == 0 {
            self.equal(accs[0].cell, m_cell);
        }
        let mut factors = Vec::new();
        for (i, x) in accs.iter().enumerate().take(n) {
            let xc = cell(self, unit.x(i), to_field(x.value));
            self.equal(x.cell, xc);
            for (j, l) in limbs(m - x.value).enumerate() {
                cell(self, unit.d_limb(i, j), l);
            }
            factors.push(to_field(m - x.value));
        }
        // The running product: three factors, then two more a cell.
        let mut rest = factors.into_iter();
        let mut acc = rest.next().unwrap_or(Fr::one());
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
