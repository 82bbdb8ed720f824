//! The row allocator: lays gadgets out in one region, row after row.
//!
//! A `Ctx` without a region only counts rows; with one it assigns cells. Both run the same
//! code, so the row count used to pick `k` is exactly what synthesis uses.

use super::{
    ChipConfig, Coef, WideSlot, LANES, LANE_A, LANE_B, LIMBS, LIMB_BITS, RANGE_BITS,
    WIDE_BOUND_BITS, WIDE_IN, WIDE_OUT, WIDE_PACK, WIDE_ROWS, WIDE_TAIL,
};
use crate::field::to_field;
use halo2_axiom::circuit::{Cell, Region, Value};
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::Field;
use halo2_axiom::plonk::{Column, Fixed};

mod fused;
mod table;

/// An assigned advice cell and the integer it holds.
#[derive(Clone, Copy, Debug)]
pub struct Wire {
    /// Location of the cell.
    pub cell: Cell,
    /// The integer assigned to it.
    pub value: i128,
}

/// What bounds the outputs of the node being laid out ([`Ctx::set_output_bound`]).
#[derive(Clone, Copy, Debug)]
pub struct OutputBound {
    /// The bound in bits that later nodes put on every element's magnitude, whatever the
    /// prover assigns (`Graph::checked_bits`): a rescale so bounded skips its own check.
    pub checked: Option<u32>,
    /// A bound on every element's magnitude in every assignment the circuit accepts, derived
    /// through the equations of the nodes around it (`Graph::enforced_bounds`, which includes
    /// `checked`); infinity where none is. A shared-input dot whose outputs it keeps below
    /// `2^WIDE_BOUND_BITS` packs them without checks of its own.
    pub enforced: f64,
    /// The magnitude the true values stay below (`Graph::bounds`).
    pub bound: f64,
}

impl Default for OutputBound {
    fn default() -> Self {
        Self {
            checked: None,
            enforced: f64::INFINITY,
            bound: f64::INFINITY,
        }
    }
}

/// Row allocator and gadget library over [`ChipConfig`].
pub struct Ctx<'a, 'r> {
    cfg: &'a ChipConfig,
    region: Option<&'a mut Region<'r, Fr>>,
    row: usize,
    /// Layout rows used so far.
    used: usize,
    /// Circuit rows used so far.
    used_at: usize,
    public: usize,
    constants: std::collections::HashMap<i128, Wire>,
    /// The next free row of a split circuit's unit column `b` ([`ChipShape::split`]).
    ///
    /// [`ChipShape::split`]: super::ChipShape::split
    unit_row: usize,
    /// Cells whose assigned values are recorded, as (column, circuit row) with the column
    /// [`COLUMN_A`](super::COLUMN_A) or [`COLUMN_B`](super::COLUMN_B) (sorted; empty
    /// outside soundness tests), and those values (zero until assigned).
    watch: &'a [(usize, usize)],
    seen: Vec<Fr>,
    tables: &'a [crate::ops::FnTable],
    /// Each table's tag ([`ChipConfig::tags`]).
    tags: Vec<i128>,
    /// The last layout row whose `q` was set.
    gated: Option<usize>,
    /// Where the next gadget starts when the last one was a shared-input dot: its outputs'
    /// rows can be the accumulators of the next shared-input dot's first block.
    wide_tail: Option<usize>,
    /// What bounds the outputs of the node being laid out ([`Ctx::set_output_bound`]).
    output_bound: OutputBound,
}

impl<'a, 'r> Ctx<'a, 'r> {
    /// A context that assigns into `region` (or only counts rows when `None`). The first
    /// `public` rows are kept for the public instances ([`Ctx::public`]); gadgets start after
    /// them.
    pub fn new(
        cfg: &'a ChipConfig,
        region: Option<&'a mut Region<'r, Fr>>,
        tables: &'a [crate::ops::FnTable],
        public: usize,
    ) -> Self {
        Self {
            cfg,
            region,
            row: public,
            used: public,
            used_at: 0,
            public,
            constants: std::collections::HashMap::new(),
            unit_row: 0,
            watch: &[],
            seen: Vec::new(),
            tables,
            tags: ChipConfig::tags(tables),
            gated: None,
            wide_tail: None,
            output_bound: OutputBound::default(),
        }
    }

    /// Layout rows (rows of lanes) used so far, including the public rows and the last `z`
    /// written.
    pub fn rows_used(&self) -> usize {
        self.used.max(self.row)
    }

    /// Circuit rows used so far: the public rows, then a block of [`BLOCK`](super::BLOCK)
    /// rows per layout row; in a split circuit, the more of those and the unit column's.
    pub fn circuit_rows_used(&self) -> usize {
        self.used_at.max(self.at(self.row, 0)).max(self.unit_row)
    }

    /// Rows of a split circuit's unit column `b` used so far (0 in any other circuit).
    pub fn unit_rows_used(&self) -> usize {
        self.unit_row
    }

    /// The circuit row of `slot` (a lane, or `LANES` for `z`) of layout row `row`.
    fn at(&self, row: usize, slot: usize) -> usize {
        super::circuit_row(self.public, row, slot)
    }

    /// Records the values this context assigns to `cells`, each
    /// ([`COLUMN_A`](super::COLUMN_A) or [`COLUMN_B`](super::COLUMN_B), circuit row), sorted,
    /// for soundness tests that change a cell relative to its honest value
    /// ([`Ctx::watched`]).
    pub fn watch(mut self, cells: &'a [(usize, usize)]) -> Self {
        debug_assert!(cells.is_sorted());
        self.watch = cells;
        self.seen = vec![Fr::zero(); cells.len()];
        self
    }

    /// Records `value` if the cell (column index, circuit row) is watched.
    fn record(&mut self, column: usize, at: usize, value: Fr) {
        if let Ok(i) = self.watch.binary_search(&(column, at)) {
            self.seen[i] = value;
        }
    }

    /// The values assigned so far to the watched cells (zero where nothing was assigned, as
    /// in the proof).
    pub fn watched(&self) -> &[Fr] {
        &self.seen
    }

    /// The row the next gadget starts on, counted from the first row after the public rows.
    pub fn row(&self) -> usize {
        self.row - self.public
    }

    /// Binds public instance `index` to `w`: circuit row `index` copies `w` into its lane A
    /// (cell `index + LANE_A`) and sets `public`, so the linear gate states
    /// `x_A − instance = 0` there (both columns are zero on every other row).
    pub fn public(&mut self, index: usize, w: &Wire) {
        assert!(index < self.public, "public row {index} was not reserved");
        self.lane(LANE_A, index, w.value, Some(w));
        self.fixed_at(self.cfg.public, index, 1);
    }

    fn advice(&mut self, lane: usize, row: usize, value: i128) -> Wire {
        let cell = self.advice_fr(lane, row, to_field(value));
        Wire { cell, value }
    }

    /// Assigns `value` to `lane` (`LANES`: `z`) of layout row `row`.
    fn advice_fr(&mut self, lane: usize, row: usize, value: Fr) -> Cell {
        let (col, at) = (self.cfg.a, self.at(row, lane));
        self.used = self.used.max(row + 1);
        self.used_at = self.used_at.max(at + 1);
        self.record(super::COLUMN_A, at, value);
        if let Some(region) = self.region.as_deref_mut() {
            region.assign_advice(col, at, Value::known(value));
        }
        Cell {
            row_offset: at,
            column: col.into(),
        }
    }

    /// Sets a fixed value of layout row `row`'s gates (and turns them on).
    fn coef(&mut self, k: Coef, row: usize, value: i128) {
        debug_assert!(row >= self.public, "public rows hold no gate");
        let (col, slot) = k.place(self.cfg.coef, self.cfg.sel);
        self.fixed_at(col, self.at(row, slot), value);
        if self.gated != Some(row) {
            self.fixed_at(self.cfg.q, self.at(row, 0), 1);
            self.gated = Some(row);
        }
    }

    fn fixed_at(&mut self, col: Column<Fixed>, at: usize, value: i128) {
        self.fixed_fr_at(col, at, to_field(value));
    }

    fn fixed_fr_at(&mut self, col: Column<Fixed>, at: usize, value: Fr) {
        if bool::from(value.is_zero()) {
            return;
        }
        if let Some(region) = self.region.as_deref_mut() {
            region.assign_fixed(col, at, value);
        }
    }

    fn equal(&mut self, a: Cell, b: Cell) {
        if let Some(region) = self.region.as_deref_mut() {
            region.constrain_equal(a, b);
        }
    }

    /// Assigns `value` in `lane` of `row`, copy-constrained to `from` when given.
    fn lane(&mut self, lane: usize, row: usize, value: i128, from: Option<&Wire>) -> Wire {
        let w = self.advice(lane, row, value);
        if let Some(src) = from {
            debug_assert_eq!(src.value, value);
            self.equal(src.cell, w.cell);
        }
        w
    }

    /// Assigns `z` on `row`.
    fn z(&mut self, row: usize, value: i128) -> Wire {
        self.advice(LANES, row, value)
    }

    /// A cell holding 0 (see [`Ctx::constant`]).
    pub fn zero(&mut self) -> Wire {
        self.constant(0)
    }

    /// A cell holding `value`, fixed by the linear gate (`x_A − value = 0`); one row per
    /// distinct value, created on first use and copied everywhere after. Call it between
    /// gadgets.
    pub fn constant(&mut self, value: i128) -> Wire {
        if let Some(w) = self.constants.get(&value) {
            return *w;
        }
        let row = self.row;
        let w = self.lane(LANE_A, row, value, None);
        self.coef(Coef::Lane(LANE_A), row, 1);
        self.coef(Coef::Const, row, -value);
        self.row += 1;
        self.constants.insert(value, w);
        w
    }

    /// Dot product `bias + Σ w·x` over chained rows of `LANES` terms; the result is the
    /// `z` cell after the last row. Zero terms still take a row, so every dot has one.
    pub fn dot(&mut self, bias: i128, terms: &[(&Wire, i128)]) -> Wire {
        let start = self.row;
        let nrows = terms.len().div_ceil(LANES).max(1);
        let mut acc = bias;
        for r in 0..nrows {
            let row = start + r;
            for (j, (x, w)) in terms.iter().skip(r * LANES).take(LANES).enumerate() {
                self.lane(j, row, x.value, Some(x));
                self.coef(Coef::Lane(j), row, *w);
                acc += x.value * *w;
            }
            if r == 0 {
                self.coef(Coef::Const, row, bias);
            }
            self.chain(row, r > 0);
            if r + 1 < nrows {
                self.z(row + 1, acc);
            }
        }
        self.row = start + nrows;
        self.z(self.row, acc)
    }

    /// Whether the shared-input dot gate is there ([`super::Layout::Wide`]).
    pub fn is_wide(&self) -> bool {
        self.cfg.wide.is_some()
    }

    /// Declares what bounds the outputs of the node about to be laid out. The circuit's
    /// layout sets it before each node.
    pub fn set_output_bound(&mut self, bound: OutputBound) {
        self.output_bound = bound;
    }

    /// What later nodes bound every output element of the node being laid out to, in bits
    /// ([`OutputBound::checked`]).
    pub fn output_checked(&self) -> Option<u32> {
        self.output_bound.checked
    }

    /// How the current node's outputs can be bounded for `Ctx::shared_dot`: `Some(0)` when the
    /// circuit bounds them below `2^WIDE_BOUND_BITS` otherwise ([`OutputBound::enforced`]: a
    /// later range check, or one carried back through additions) and their true values are
    /// below half of that,
    /// `Some(rows)` when [`Ctx::check_magnitude`] must, in that many range rows per output,
    /// `None` when neither can (or the layout is tall).
    pub fn shared_dot_checks(&self) -> Option<usize> {
        let OutputBound {
            enforced, bound, ..
        } = self.output_bound;
        // A bit of margin below `2^WIDE_BOUND_BITS` for the rounding of the float bound (and
        // no packing at all for a bound that is not a number).
        if !self.is_wide() || bound.is_nan() || bound >= 2f64.powi(WIDE_BOUND_BITS as i32 - 1) {
            return None;
        }
        if enforced <= 2f64.powi(WIDE_BOUND_BITS as i32) {
            return Some(0);
        }
        // Signed values below `bound`: `log2(bound) + 1` bits, in range rows of RANGE_BITS.
        let bits = (bound + 1.0).log2().ceil() as u32 + 1;
        let rows = bits.div_ceil(RANGE_BITS) as usize;
        (rows as u32 * RANGE_BITS <= WIDE_BOUND_BITS).then_some(rows)
    }

    /// Proves `x ∈ [-2^(RANGE_BITS·rows − 1), 2^(RANGE_BITS·rows − 1))` in `rows` range rows:
    /// `x + 2^(RANGE_BITS·rows − 1) = Σ_i d_i·2^(RANGE_BITS·i)` with every digit `d_i` looked
    /// up in `[0, 2^RANGE_BITS)`. Row `i` states `d_i = v_i − 2^RANGE_BITS·v_(i+1)` for the
    /// remaining value `v_i` (`v_0 = x + half`), the last row `d = v`.
    pub fn check_magnitude(&mut self, x: &Wire, rows: usize) {
        debug_assert!(rows >= 1 && rows as u32 * RANGE_BITS < 127);
        let half = 1i128 << (RANGE_BITS * rows as u32 - 1);
        let base = 1i128 << RANGE_BITS;
        let (mut v, mut cell, mut constant) = (x.value + half, *x, half);
        for _ in 1..rows {
            let (digit, next) = (v.rem_euclid(base), v.div_euclid(base));
            let w = self.range_row(
                digit,
                RANGE_BITS,
                &[
                    (LANE_A, cell.value, Some(&cell), 1),
                    (LANE_B, next, None, -base),
                ],
                constant,
            );
            (v, cell, constant) = (next, w[1], 0);
        }
        self.range_row(
            v,
            RANGE_BITS,
            &[(LANE_A, cell.value, Some(&cell), 1)],
            constant,
        );
    }

    /// Dot products sharing their inputs, `y_o = b_o + Σ_j w_oj·x_j` for up to [`WIDE_OUT`]
    /// outputs `(b_o, w_o)` (each `w_o` as long as `x`), over chained wide blocks of
    /// [`WIDE_IN`] inputs; returns the outputs' cells (the accumulators after the last block).
    /// The gate packs [`WIDE_PACK`] outputs to a constraint, which pins each output only when
    /// its cell, and its true value, are below `2^WIDE_BOUND_BITS`: the caller range-checks
    /// every output as [`Ctx::shared_dot_checks`] says. Input lanes past `x` have zero weights;
    /// the accumulators of no output end copy-constrained to zero. Needs the wide layout.
    pub(crate) fn shared_dot(&mut self, x: &[&Wire], outputs: &[(i128, &[i128])]) -> Vec<Wire> {
        let wide = self.cfg.wide.clone().expect("the wide layout");
        debug_assert!(outputs.len() <= WIDE_OUT);
        debug_assert!(outputs.iter().all(|(_, w)| w.len() == x.len()));
        // The previous shared-input dot's outputs are accumulators that this chain's first
        // block ignores (`cont = 0`): start on them.
        let start = match self.wide_tail {
            Some(r) if r == self.row => r - WIDE_TAIL,
            _ => self.row,
        };
        let blocks = x.len().div_ceil(WIDE_IN).max(1);
        // The packed fixed values, computed only when assigning (not when counting rows).
        let assigning = self.region.is_some();
        let factors: [Fr; WIDE_PACK] = std::array::from_fn(WideSlot::pack_factor);
        let packed = |g: usize, value: &dyn Fn(usize) -> i128| -> Fr {
            let group = g * WIDE_PACK..((g + 1) * WIDE_PACK).min(outputs.len());
            group
                .map(|o| factors[o - g * WIDE_PACK] * to_field(value(o)))
                .sum()
        };
        let groups = if assigning {
            outputs.len().div_ceil(WIDE_PACK)
        } else {
            0
        };
        let mut acc: Vec<i128> = outputs.iter().map(|(b, _)| *b).collect();
        let mut out = Vec::new();
        for blk in 0..blocks {
            let row = start + blk * WIDE_ROWS;
            let base = self.at(row, 0);
            self.fixed_at(wide.q, base, 1);
            let slot = |ctx: &mut Self, s: WideSlot, v: Fr| {
                let (col, r) = s.place(&wide);
                ctx.fixed_fr_at(col, base + r, v);
            };
            if blk == 0 {
                for g in 0..groups {
                    slot(self, WideSlot::Bias(g), packed(g, &|o| outputs[o].0));
                }
            } else if assigning {
                slot(self, WideSlot::Cont, Fr::ONE);
            }
            let first = blk * WIDE_IN;
            for (j, xj) in x.iter().enumerate().skip(first).take(WIDE_IN) {
                self.lane(WIDE_OUT + j - first, row, xj.value, Some(xj));
                for g in 0..groups {
                    let w = packed(g, &|o| outputs[o].1[j]);
                    slot(self, WideSlot::Weight(g, j - first), w);
                }
                for (o, (_, w)) in outputs.iter().enumerate() {
                    acc[o] += w[j] * xj.value;
                }
            }
            // The accumulators after this block: the next block's `z_o`; those of no output
            // are zero.
            out = (0..WIDE_OUT)
                .map(|o| self.advice(o, row + WIDE_ROWS, acc.get(o).copied().unwrap_or(0)))
                .collect();
        }
        self.row = start + blocks * WIDE_ROWS + WIDE_TAIL;
        self.wide_tail = Some(self.row);
        if outputs.len() < WIDE_OUT {
            // After the tail, so that this chain's outputs stay where the next one can start.
            let zero = self.zero();
            for unused in &out[outputs.len()..] {
                self.equal(zero.cell, unused.cell);
            }
        }
        out.truncate(outputs.len());
        out
    }

    /// One range row: `value ∈ [0, 2^bits)` is split into limbs in lanes `0..LIMBS`, and the
    /// linear gate states `value = Σ operand_coef·operand + constant` over the operand lanes.
    /// Operands are `(lane, value, copy_from, coefficient)`. Returns the operand wires.
    fn range_row(
        &mut self,
        value: i128,
        bits: u32,
        operands: &[(usize, i128, Option<&Wire>, i128)],
        constant: i128,
    ) -> Vec<Wire> {
        // An honest `value` lies in `[0, 2^bits)` (the oracle checks it); a forged one (a
        // soundness test) is split as it is, and its row then fails.
        debug_assert!(bits <= RANGE_BITS && bits.is_multiple_of(LIMB_BITS));
        let row = self.row;
        // Only the limbs the value needs are assigned and looked up: the lanes above them
        // are read by no term.
        for j in 0..(bits / LIMB_BITS) as usize {
            let limb = (value >> (LIMB_BITS * j as u32)) & ((1 << LIMB_BITS) - 1);
            self.lane(j, row, limb, None);
            self.coef(Coef::Lane(j), row, 1i128 << (LIMB_BITS * j as u32));
            self.fixed_at(self.cfg.q_lk, self.at(row, j), 1);
        }
        let wires = operands
            .iter()
            .map(|(lane, v, from, coef)| {
                self.coef(Coef::Lane(*lane), row, -coef);
                self.lane(*lane, row, *v, *from)
            })
            .collect();
        self.coef(Coef::Const, row, -constant);
        self.row += 1;
        wires
    }

    /// A new cell holding `value`, constrained to `[-2^(RANGE_BITS-1), 2^(RANGE_BITS-1))`.
    pub fn signed_input(&mut self, value: i128) -> Wire {
        let half = 1i128 << (RANGE_BITS - 1);
        self.range_row(value + half, RANGE_BITS, &[(LANE_A, value, None, 1)], half)[0]
    }

    /// Constrains an existing cell to the signed range of [`Ctx::signed_input`].
    pub fn check_signed(&mut self, x: &Wire) -> Wire {
        let half = 1i128 << (RANGE_BITS - 1);
        self.range_row(
            x.value + half,
            RANGE_BITS,
            &[(LANE_A, x.value, Some(x), 1)],
            half,
        )[0]
    }

    /// Rounding division by `2^shift` (half rounds up): `y = ⌊(x + 2^(shift-1)) / 2^shift⌋`,
    /// proven by `x + half = y·2^shift + r` with `r ∈ [0, 2^shift)` and, with `check_y`, `y`
    /// range-checked; without it the caller's later nodes must bound `y` (see
    /// `ops::rescale`). `y` is the caller's (oracle's) value.
    pub fn rescale(&mut self, x: &Wire, shift: u32, y: i128, check_y: bool) -> Wire {
        debug_assert!(shift > 0 && shift <= RANGE_BITS);
        let d = 1i128 << shift;
        let half = d / 2;
        let r = x.value + half - y * d;
        let bits = shift.next_multiple_of(LIMB_BITS);
        // r = x + half - d·y
        let w = self.range_row(
            r,
            bits,
            &[(LANE_A, x.value, Some(x), 1), (LANE_B, y, None, -d)],
            half,
        );
        let (xw, yw) = (w[0], w[1]);
        if bits != shift {
            // d - 1 - r = d - 1 - x - half + d·y
            self.range_row(
                d - 1 - r,
                bits,
                &[(LANE_A, x.value, Some(&xw), -1), (LANE_B, y, Some(&yw), d)],
                d - 1 - half,
            );
        }
        if check_y {
            self.check_signed(&yw)
        } else {
            yw
        }
    }

    /// `y = max(candidates)` (or `min` when `min` is set): each `y − a_i` (`a_i − y`) is
    /// range-checked to `[0, 2^RANGE_BITS)` and a running product `Π (y − a_i)` in `z` is
    /// constrained to end at zero, so `y` is one of the candidates.
    pub fn max(&mut self, candidates: &[&Wire], y: i128, min: bool) -> Wire {
        let s: i128 = if min { -1 } else { 1 };
        let zero = self.zero();
        let mut y_wire: Option<Wire> = None;
        let mut prod = Fr::one();
        for (i, a) in candidates.iter().enumerate() {
            let row = self.row;
            let w = self.range_row(
                s * (y - a.value),
                RANGE_BITS,
                &[
                    (LANE_A, y, y_wire.as_ref(), s),
                    (LANE_B, a.value, Some(a), -s),
                ],
                0,
            );
            y_wire.get_or_insert(w[0]);
            self.coef(Coef::Max, row, if i == 0 { 1 } else { 2 });
            prod *= to_field(y - a.value);
            let z = self.advice_fr(LANES, row + 1, prod);
            if i + 1 == candidates.len() {
                self.equal(z, zero.cell);
            }
        }
        y_wire.expect("max of at least one candidate")
    }

    /// `y = x / 2^shift` where that is exact: `y` range-checked as a signed value, then
    /// `x − 2^shift·y = 0` on the linear gate.
    pub fn exact_div(&mut self, x: &Wire, shift: u32, y: i128) -> Wire {
        let yw = self.signed_input(y);
        let row = self.row;
        self.lane(LANE_A, row, x.value, Some(x));
        self.coef(Coef::Lane(LANE_A), row, 1);
        self.lane(LANE_B, row, y, Some(&yw));
        self.coef(Coef::Lane(LANE_B), row, -(1i128 << shift));
        self.row += 1;
        yw
    }

    /// A graph input holding `value`, constrained to `[min, min + 2^bits)` (`bits` a multiple
    /// of the limb width): the integer range of a pre-quantized model's input.
    pub fn bounded_input(&mut self, value: i128, min: i128, bits: u32) -> Wire {
        self.range_row(value - min, bits, &[(LANE_A, value, None, 1)], -min)[0]
    }

    /// `Σ a_i·b_i` over chained bilinear rows of `LANES / 2` products; the result is the `z`
    /// cell after the last row. Every lane a product term reads is a copy: the pairs the
    /// last row lacks are copies of the constant zero (a free lane there would move the
    /// result by any amount), and an empty sum is the constant zero itself.
    pub fn bilinear(&mut self, pairs: &[(&Wire, &Wire)]) -> Wire {
        let zero = self.zero();
        if pairs.is_empty() {
            return zero;
        }
        let start = self.row;
        let per_row = LANES / 2;
        let nrows = pairs.len().div_ceil(per_row);
        let mut acc = 0i128;
        for r in 0..nrows {
            let row = start + r;
            for j in 0..per_row {
                let (a, b) = pairs
                    .get(r * per_row + j)
                    .copied()
                    .unwrap_or((&zero, &zero));
                self.lane(2 * j, row, a.value, Some(a));
                self.lane(2 * j + 1, row, b.value, Some(b));
                acc += a.value * b.value;
            }
            self.coef(Coef::Prod, row, 2);
            self.chain(row, r > 0);
            if r + 1 < nrows {
                self.z(row + 1, acc);
            }
        }
        self.row = start + nrows;
        self.z(self.row, acc)
    }

    /// `t = [d > 0]` for `|d| < 2^(RANGE_BITS-1)`: `t` is boolean (`t·t = t`) and
    /// `v = t·(d − 1) + (1 − t)·(−d) = 2·t·d − d − t` is range-checked non-negative.
    pub fn is_positive(&mut self, d: &Wire) -> Wire {
        let t_val = i128::from(d.value > 0);
        let row = self.row;
        let t = self.lane(LANE_A, row, t_val, None);
        self.lane(LANE_B, row, d.value, Some(d));
        self.product_row(row);
        self.row += 1;
        let p = self.z(row + 1, t_val * d.value);
        let row = self.row;
        self.lane(LANE_A, row, t_val, Some(&t));
        self.lane(LANE_B, row, t_val, Some(&t));
        self.product_row(row);
        self.row += 1;
        let t2 = self.z(row + 1, t_val);
        self.equal(t2.cell, t.cell);
        self.check_nonneg(&[(&p, 2), (d, -1), (&t, -1)]);
        t
    }

    /// Range-checks `Σ coef·wire ∈ [0, 2^RANGE_BITS)`: in one row for up to `LANES − LIMBS`
    /// terms, otherwise the sum goes through a dot-product row first.
    pub fn check_nonneg(&mut self, terms: &[(&Wire, i128)]) {
        let v: i128 = terms.iter().map(|(w, c)| w.value * c).sum();
        if terms.len() > LANES - LIMBS {
            let sum = self.dot(0, terms);
            self.range_row(v, RANGE_BITS, &[(LANE_A, v, Some(&sum), 1)], 0);
            return;
        }
        let ops: Vec<(usize, i128, Option<&Wire>, i128)> = terms
            .iter()
            .enumerate()
            .map(|(i, (w, c))| (LIMBS + i, w.value, Some(*w), *c))
            .collect();
        self.range_row(v, RANGE_BITS, &ops, 0);
    }

    /// Constrains two cells to hold the same value.
    pub fn constrain_equal(&mut self, a: &Wire, b: &Wire) {
        self.equal(a.cell, b.cell);
    }

    /// A boolean cell holding `value` (0 or 1): `b·b = b` on the linear gate's product term.
    pub fn boolean(&mut self, value: i128) -> Wire {
        let row = self.row;
        let b = self.lane(LANE_A, row, value, None);
        self.lane(LANE_B, row, value, Some(&b));
        self.product_row(row);
        self.row += 1;
        let sq = self.z(row + 1, value * value);
        self.equal(sq.cell, b.cell);
        b
    }

    /// Makes `row` state `z_next = x_A·x_B` on the linear gate.
    fn product_row(&mut self, row: usize) {
        self.coef(Coef::Prod, row, 1);
        self.chain(row, false);
    }

    /// Makes the linear gate on `row` define `z_next`: the row's sum, plus `z` when
    /// `continues` (a chain of dot-product or bilinear rows).
    fn chain(&mut self, row: usize, continues: bool) {
        self.coef(Coef::Chain, row, if continues { 2 } else { 1 });
    }

    /// `a·b`, proven by the linear gate's product term.
    pub fn mul(&mut self, a: &Wire, b: &Wire) -> Wire {
        let row = self.row;
        self.lane(LANE_A, row, a.value, Some(a));
        self.lane(LANE_B, row, b.value, Some(b));
        self.product_row(row);
        self.row += 1;
        self.z(row + 1, a.value * b.value)
    }
}
