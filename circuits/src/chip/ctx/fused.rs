//! The gadgets of [`Ctx`] that lay out the wide layout's units: rescale-max
//! ([`FusedUnit`]), requant ([`RequantUnit`]) and rescale ([`RescaleUnit`]).

use super::{Ctx, Wire};
use crate::chip::{
    FusedUnit, RequantUnit, RescaleUnit, UnitColumn, BLOCK, FUSED_SHIFT, LIMB_BITS, RANGE_BITS,
    RESCALE_UNIT_ELEMS, RESCALE_UNIT_SHIFT,
};
use crate::field::to_field;
use halo2_axiom::circuit::{Cell, Value};
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::plonk::{Column, Fixed};

/// The `n` limbs of `v`, lowest first. An honest value is in range (the oracle checks it); a
/// forged one is split as it is, and its unit then fails.
fn limbs(v: i128, n: usize) -> impl Iterator<Item = Fr> {
    (0..n).map(move |j| to_field((v >> (LIMB_BITS * j as u32)) & 0xff))
}

impl Ctx<'_, '_> {
    /// Starts a unit on the next row: its selector `q` set to `selector`, the limb lookup on
    /// its `limbs` cells. Returns the unit's first layout row.
    fn unit_start(
        &mut self,
        q: Column<Fixed>,
        selector: u64,
        limbs: impl Iterator<Item = usize>,
    ) -> usize {
        let start = self.row;
        let base = self.at(start, 0);
        self.fixed_at(q, base, i128::from(selector));
        for o in limbs {
            self.fixed_at(self.cfg.q_lk, base + o, 1);
        }
        start
    }

    /// Assigns `v` to the cell at `offset` of the unit starting on layout row `start`.
    fn unit_cell(&mut self, start: usize, offset: usize, v: Fr) -> Cell {
        self.advice_fr(offset % BLOCK, start + offset / BLOCK, v)
    }

    /// Assigns the running product of `factors` (three into the first product cell, two more
    /// into each next: the unit gates' `vanishing_product`) to the cells at `product(p)`.
    fn unit_products(
        &mut self,
        at: UnitAt,
        factors: Vec<Fr>,
        cells: usize,
        product: impl Fn(usize) -> usize,
    ) {
        let mut rest = factors.into_iter();
        let mut acc = rest.next().unwrap_or(Fr::one());
        for p in 0..cells {
            acc = acc * rest.next().expect("a factor") * rest.next().expect("a factor");
            self.unit_put(at, product(p), acc);
        }
    }

    /// Starts a rescale or rescale-max unit of `cells` cells (`rows` layout rows in `a`): in a
    /// split circuit's unit column, one unit after another, or on the next rows of `a`; its
    /// selector `q` set to `selector`, the limb lookup on its `limbs` cells.
    fn unit_begin(
        &mut self,
        q: Column<Fixed>,
        selector: u64,
        limbs: impl Iterator<Item = usize>,
        rows: usize,
        cells: usize,
    ) -> UnitAt {
        match self.cfg.wide.as_ref().and_then(|w| w.units) {
            Some(column) => {
                let base = self.unit_row;
                self.fixed_at(q, base, i128::from(selector));
                for o in limbs {
                    self.fixed_at(column.q_lk, base + o, 1);
                }
                self.unit_row = base + cells;
                UnitAt::Column(column, base)
            }
            None => {
                let start = self.unit_start(q, selector, limbs);
                self.row = start + rows;
                UnitAt::Rows(start)
            }
        }
    }

    /// `y = max(0, round(x_1 / 2^FUSED_SHIFT), …)` over the accumulators `xs` in one
    /// rescale-max unit, given the rescaled candidates `ys` and `y` (the oracle's values).
    /// `xs.len()` must be one of [`FUSED_SHAPES`](crate::chip::FUSED_SHAPES); needs the wide
    /// layout. Returns `y`'s cell.
    pub fn rescale_max(&mut self, xs: &[&Wire], ys: &[i128], y: i128) -> Wire {
        let wide = self.cfg.wide.clone().expect("the wide layout");
        let unit = FusedUnit::of(xs.len()).expect("a fused shape");
        debug_assert_eq!(xs.len(), ys.len());
        let q = wide
            .fused
            .expect("the circuit's shape has the rescale-max unit");
        let at = self.unit_begin(q, unit.selector(), unit.limbs(), unit.rows(), unit.cells());
        let y_cell = self.unit_put(at, unit.y(), to_field(y));
        for (j, l) in limbs(y, 3).enumerate() {
            self.unit_put(at, unit.y_limb(j), l);
        }
        let (scale, half) = (1i128 << FUSED_SHIFT, 1i128 << (FUSED_SHIFT - 1));
        let mut factors = vec![to_field(y)];
        for (i, (x, yi)) in xs.iter().zip(ys).enumerate() {
            let xc = self.unit_put(at, unit.x(i), to_field(x.value));
            self.equal(x.cell, xc);
            let r = x.value + half - yi * scale;
            for (j, l) in limbs(r, (FUSED_SHIFT / LIMB_BITS) as usize).enumerate() {
                self.unit_put(at, unit.r_limb(i, j), l);
            }
            for (j, l) in limbs(y - yi, 3).enumerate() {
                self.unit_put(at, unit.d_limb(i, j), l);
            }
            factors.push(to_field(y - yi));
        }
        self.unit_products(at, factors, unit.products(), |p| unit.product(p));
        Wire {
            cell: y_cell,
            value: y,
        }
    }

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
        let q = wide
            .requant
            .expect("the circuit's shape has the requant unit");
        let start = self.unit_start(q, unit.selector(), unit.limbs());
        let base = self.at(start, 0);
        self.fixed_at(self.cfg.ftag, base + unit.hi(), tag + 1);
        self.fixed_at(self.cfg.ftag, base + unit.y(), tag);
        self.unit_cell(start, unit.hi(), to_field(hi));
        let y_cell = self.unit_cell(start, unit.y(), to_field(y));
        self.unit_cell(start, unit.lo(), to_field(lo));
        let m_cell = self.unit_cell(start, unit.m(), to_field(m));
        for (j, (l, h)) in limbs(m - lo, 3).zip(limbs(hi - m, 3)).enumerate() {
            self.unit_cell(start, unit.low_limb(j), l);
            self.unit_cell(start, unit.high_limb(j), h);
        }
        if n == 0 {
            self.equal(accs[0].cell, m_cell);
        }
        let mut factors = Vec::new();
        for (i, x) in accs.iter().enumerate().take(n) {
            let xc = self.unit_cell(start, unit.x(i), to_field(x.value));
            self.equal(x.cell, xc);
            for (j, l) in limbs(m - x.value, 3).enumerate() {
                self.unit_cell(start, unit.d_limb(i, j), l);
            }
            factors.push(to_field(m - x.value));
        }
        self.unit_products(UnitAt::Rows(start), factors, unit.products(), |p| {
            unit.product(p)
        });
        self.row = start + unit.rows();
        Wire {
            cell: y_cell,
            value: y,
        }
    }

    /// Whether rescales by `2^`[`RESCALE_UNIT_SHIFT`] that check their outputs go in
    /// rescale units: the circuit's shape has the unit.
    pub fn has_rescale_unit(&self) -> bool {
        self.cfg.wide.as_ref().is_some_and(|w| w.rescale.is_some())
    }

    /// `y_i = round(x_i / 2^16)`, each range-checked to `[-2^23, 2^23)`, for the
    /// [`RESCALE_UNIT_ELEMS`] values `xs` in one rescale unit, given the outputs `ys` (the
    /// oracle's values): in `a`, or in the unit column `b` of a split circuit. Needs a
    /// circuit with the unit ([`Ctx::has_rescale_unit`]). Returns the outputs' cells.
    pub fn rescale_unit(&mut self, xs: &[&Wire], ys: &[i128]) -> Vec<Wire> {
        let xs = xs.iter().map(|x| (x.value, Some(x.cell))).collect();
        self.lay_rescale_unit(xs, ys, None)
    }

    /// Whether the signed inputs' range checks go in rescale units ([`Ctx::input_unit`]): a
    /// split circuit with the rescale unit.
    pub fn inputs_in_units(&self) -> bool {
        self.cfg
            .wide
            .as_ref()
            .is_some_and(|w| w.units.is_some() && w.rescale.is_some())
    }

    /// [`RESCALE_UNIT_ELEMS`] signed inputs `vs`, each range-checked to `[-2^23, 2^23)` in
    /// one rescale unit in a split circuit's unit column ([`Ctx::inputs_in_units`]): each is a
    /// unit's output `y_i`, whose limbs check its range, with `x_i = 2^16·y_i`: its remainder's
    /// limbs are copies of the constants `0` and `2^7` (a remainder of `2^15`), so the unit's
    /// equation pins `x_i`, a cell nothing else reads. What `signed_input` proves, in 7.2 cells
    /// of `b` instead of 6 of `a`. Returns the inputs' cells.
    pub fn input_unit(&mut self, vs: &[i128]) -> Vec<Wire> {
        debug_assert!(self.inputs_in_units());
        let xs = vs.iter().map(|v| (v << RESCALE_UNIT_SHIFT, None)).collect();
        let half = 1i128 << (RESCALE_UNIT_SHIFT - 1);
        let limbs: Vec<Wire> = (0..2)
            .map(|j| self.constant((half >> (LIMB_BITS * j)) & 0xff))
            .collect();
        self.lay_rescale_unit(xs, vs, Some(&limbs))
    }

    /// One rescale unit over the values `xs` (each copied from its cell where given), with
    /// the outputs `ys`, and each remainder's limbs copies of `remainder` where given.
    fn lay_rescale_unit(
        &mut self,
        xs: Vec<(i128, Option<Cell>)>,
        ys: &[i128],
        remainder: Option<&[Wire]>,
    ) -> Vec<Wire> {
        debug_assert!(xs.len() == RESCALE_UNIT_ELEMS && ys.len() == RESCALE_UNIT_ELEMS);
        let q = self.cfg.wide.as_ref().and_then(|w| w.rescale);
        let unit = RescaleUnit;
        let at = self.unit_begin(
            q.expect("the rescale unit"),
            1,
            unit.limbs(),
            unit.rows(),
            unit.cells(),
        );
        let (scale, half) = (
            1i128 << RESCALE_UNIT_SHIFT,
            1i128 << (RESCALE_UNIT_SHIFT - 1),
        );
        let offset = 1i128 << (RANGE_BITS - 1);
        let mut out = Vec::with_capacity(xs.len());
        for (i, ((x, from), y)) in xs.into_iter().zip(ys).enumerate() {
            let xc = self.unit_put(at, unit.x(i), to_field(x));
            if let Some(from) = from {
                self.equal(from, xc);
            }
            let cell = self.unit_put(at, unit.y(i), to_field(*y));
            let rem = x + half - y * scale;
            for (j, l) in limbs(rem, 2).enumerate() {
                let limb = self.unit_put(at, unit.r_limb(i, j), l);
                if let Some(fixed) = remainder {
                    self.equal(fixed[j].cell, limb);
                }
            }
            for (j, l) in limbs(y + offset, 3).enumerate() {
                self.unit_put(at, unit.y_limb(i, j), l);
            }
            out.push(Wire { cell, value: *y });
        }
        out
    }

    /// Assigns `v` to the cell at `offset` of the unit at `at`.
    fn unit_put(&mut self, at: UnitAt, offset: usize, v: Fr) -> Cell {
        match at {
            UnitAt::Rows(start) => self.unit_cell(start, offset, v),
            UnitAt::Column(column, base) => {
                let row = base + offset;
                self.record(crate::chip::COLUMN_B, row, v);
                if let Some(region) = self.region.as_deref_mut() {
                    region.assign_advice(column.b, row, Value::known(v));
                }
                Cell {
                    row_offset: row,
                    column: column.b.into(),
                }
            }
        }
    }
}

/// Where a unit sits: from a layout row of `a`, or from a row of a split circuit's unit
/// column.
#[derive(Clone, Copy)]
enum UnitAt {
    Rows(usize),
    Column(UnitColumn, usize),
}
