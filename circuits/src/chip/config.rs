//! Column allocation, custom gates and lookup arguments.

use super::{
    ChipShape, Layout, BLOCK, FN_LANES, LANES, LANE_A, LANE_B, LIMB_BITS, PACK_BITS, SECOND_LANE,
    WIDE_CELLS, WIDE_GROUPS, WIDE_IN, WIDE_OUT, WIDE_PACK,
};
use halo2_axiom::circuit::{Layouter, Value};
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::Field;
use halo2_axiom::plonk::{
    Advice, Column, ConstraintSystem, Error, Expression, Fixed, Instance, TableColumn,
};
use halo2_axiom::poly::Rotation;

/// Columns of the zkinfer circuit. See the [module docs](super) for the gates.
///
/// The layout is kept lean because every column costs the on-chain verifier a commitment
/// (an elliptic-curve multiplication, ~6,500 gas) and an evaluation: all advice cells live in
/// one column `a` (a row of lanes is a block of [`BLOCK`] consecutive cells, read by the
/// gates through rotations), selectors share columns (`s`, `m`), one lookup argument serves
/// the limbs and the function tables, the limb table lives in the function table under tag 0,
/// and constants are fixed by the linear gate rather than a constants column. Only a wide
/// circuit whose units halve its rows by it has a second advice column and a second lookup
/// ([`WideConfig::units`]).
#[derive(Clone, Debug)]
pub struct ChipConfig {
    /// The advice column: lane `j` of the block starting at row `p` is the cell `p + j`, its
    /// accumulator `z` the cell `p + LANES`.
    pub a: Column<Advice>,
    /// 1 on the first row of every block: turns its gates on.
    pub q: Column<Fixed>,
    /// A block's coefficients, one per row of the block ([`Coef::place`]): the
    /// lanes' factors, then the constant term.
    pub coef: Column<Fixed>,
    /// A block's selectors, one per row of the block: chain, product, max.
    pub sel: Column<Fixed>,
    /// 1 on the public rows: `x_A = instance` (see `Ctx::public`).
    pub public: Column<Fixed>,
    /// Enables the limb lookup of the cell on its row.
    pub q_lk: Column<Fixed>,
    /// Public instances: outputs, then public inputs.
    pub instance: Column<Instance>,
    /// Tag of the function table looked up from this row's cell on (0: no function lookup).
    pub ftag: Column<Fixed>,
    /// The lookup table: tag, first value, second value. Tag 0 holds the limbs `(0, i, 0)`
    /// for `i ∈ [0, 2^LIMB_BITS)`; a function table with tag `t ≥ 1` holds `(t, t·x, t·f(x))`,
    /// and its second output `g`, if any, has tag `t + 1`: `(t + 1, (t + 1)·g(x), (t + 1)·x)`
    /// (see [`ChipConfig::tags`]).
    pub table: [TableColumn; 3],
    /// The shared-input dot gate's columns, in the wide layout only.
    pub wide: Option<WideConfig>,
}

/// Columns of the wide layout's shared-input dot gate (see the [module docs](super)).
#[derive(Clone, Debug)]
pub struct WideConfig {
    /// 1 on the first row of every wide block: turns the gate on.
    pub q: Column<Fixed>,
    /// The columns holding a wide block's fixed values, [`WIDE_CELLS`] per column: slot `s`
    /// ([`WideSlot::index`]) is row `s % WIDE_CELLS` of column `s / WIDE_CELLS`. The first two
    /// are the tall layout's `coef` and `sel`, which no tall gate reads on a wide block.
    pub slots: Vec<Column<Fixed>>,
    /// The rescale-max unit's selector, where the circuit has the unit: 1 or 2 on a unit's
    /// first row, by its shape ([`FusedUnit::selector`](super::FusedUnit::selector)), in `a`
    /// or, in a split circuit, in `units.b`.
    pub fused: Option<Column<Fixed>>,
    /// The requant unit's selector, where the circuit has the unit: 1 or 2 on a unit's first
    /// row, by its shape ([`RequantUnit::selector`](super::RequantUnit::selector)).
    pub requant: Option<Column<Fixed>>,
    /// The rescale unit's selector, where the circuit has the unit: 1 on a unit's first row
    /// ([`RescaleUnit`](super::RescaleUnit)), in `a` or, in a split circuit, in `units.b`.
    pub rescale: Option<Column<Fixed>>,
    /// The units' own advice column, in a split circuit ([`ChipShape::split`]).
    pub units: Option<UnitColumn>,
}

/// The advice column of a split circuit's units ([`ChipShape::split`]), and what reads it:
/// the rescale and rescale-max units' gates (each on its own selector) and a limb lookup of
/// its own.
#[derive(Clone, Copy, Debug)]
pub struct UnitColumn {
    /// The advice column: the units' cells, one unit after another from row 0.
    pub b: Column<Advice>,
    /// 1 on the limb cells of `b`: the lookup `(0, q_lk·b, 0)` puts each in `[0, 2^8)`.
    pub q_lk: Column<Fixed>,
}

/// A fixed value of a wide block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WideSlot {
    /// Packed weight of input `j` in group `g`: `Σ_i 2^(PACK_BITS·i)·w_oj` over the group's
    /// outputs `o = WIDE_PACK·g + i`.
    Weight(usize, usize),
    /// Packed constant term of group `g`.
    Bias(usize),
    /// 1 when the block continues a chain (adds its accumulators), 0 on a chain's first.
    Cont,
}

impl WideSlot {
    /// Fixed values a wide block holds.
    pub const COUNT: usize = WIDE_GROUPS * WIDE_IN + WIDE_GROUPS + 1;

    /// The slot's index, in `0 .. COUNT`.
    pub fn index(self) -> usize {
        match self {
            WideSlot::Weight(g, j) => g * WIDE_IN + j,
            WideSlot::Bias(g) => WIDE_GROUPS * WIDE_IN + g,
            WideSlot::Cont => WIDE_GROUPS * WIDE_IN + WIDE_GROUPS,
        }
    }

    /// `2^(PACK_BITS·i)`: the factor of output `i` of a group.
    pub fn pack_factor(i: usize) -> Fr {
        Fr::from(2).pow_vartime([u64::from(PACK_BITS) * i as u64])
    }

    /// The column and the row of the block holding the slot.
    pub fn place(self, wide: &WideConfig) -> (Column<Fixed>, usize) {
        let i = self.index();
        (wide.slots[i / WIDE_CELLS], i % WIDE_CELLS)
    }
}

/// A fixed value of a block's gates, stored in the block's rows of [`ChipConfig::coef`] or
/// [`ChipConfig::sel`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coef {
    /// Factor of lane `j` in the linear gate.
    Lane(usize),
    /// Constant term of the linear gate.
    Const,
    /// Chains blocks through `z`: 1 makes the block's sum `z_next`, 2 makes `z + sum` `z_next`.
    Chain,
    /// Product term of the linear gate: 1 adds `x_A·x_B`, 2 adds `Σ_j x_{2j}·x_{2j+1}`.
    Prod,
    /// Max chain: 1 on its first block, 2 on the blocks that continue the product.
    Max,
}

impl Coef {
    /// The column (`coef` or `sel`) and the row of the block holding it.
    pub fn place(self, coef: Column<Fixed>, sel: Column<Fixed>) -> (Column<Fixed>, usize) {
        match self {
            Coef::Lane(j) => (coef, j),
            Coef::Const => (coef, LANES),
            Coef::Chain => (sel, 0),
            Coef::Prod => (sel, 1),
            Coef::Max => (sel, 2),
        }
    }
}

/// A constant expression.
fn k(v: u64) -> Expression<Fr> {
    Expression::Constant(Fr::from(v))
}

/// `1/2` as a constant expression.
fn half() -> Expression<Fr> {
    Expression::Constant(Fr::from(2).invert().expect("2 is invertible"))
}

/// Indicators of a fixed selector `v ∈ {0, 1, 2}`, each of degree 2: `[v = 1] = v(2 − v)`,
/// `[v = 2] = v(v − 1)/2`, `[v ≠ 0] = v(3 − v)/2`.
pub(super) fn is_one(v: &Expression<Fr>) -> Expression<Fr> {
    v.clone() * (k(2) - v.clone())
}

pub(super) fn is_two(v: &Expression<Fr>) -> Expression<Fr> {
    v.clone() * (v.clone() - k(1)) * half()
}

fn nonzero(v: &Expression<Fr>) -> Expression<Fr> {
    v.clone() * (k(3) - v.clone()) * half()
}

/// Rotation of the cell in `slot` of the block (`LANES` is `z`), or of the next block.
fn at(slot: usize, next_block: bool) -> Rotation {
    Rotation((slot + if next_block { BLOCK } else { 0 }) as i32)
}

impl ChipConfig {
    /// Allocates the columns and registers gates and lookups of a circuit of `shape`.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, shape: impl Into<ChipShape>) -> Self {
        let shape = shape.into();
        let mut cfg = Self::configure_tall(meta);
        if shape.layout == Layout::Wide {
            cfg.wide = Some(cfg.configure_wide(meta, shape));
        }
        cfg
    }

    /// The shared-input dot gate: for every group `g` of [`WIDE_PACK`] outputs `o` of a wide
    /// block, `q_w·(Σ_j W_gj·x_j + B_g + Σ_i 2^(PACK_BITS·i)·(cont·z_o − z'_o)) = 0`. Degree 3.
    /// Also the rescale-max unit's gate ([`super::FusedUnit`]), the requant unit's
    /// ([`super::RequantUnit`]) and the rescale unit's ([`super::RescaleUnit`]), each on a
    /// selector of its own, where the circuit's shape has them.
    fn configure_wide(&self, meta: &mut ConstraintSystem<Fr>, shape: ChipShape) -> WideConfig {
        let q = meta.fixed_column();
        let mut slots = vec![self.coef, self.sel];
        while slots.len() * WIDE_CELLS < WideSlot::COUNT {
            slots.push(meta.fixed_column());
        }
        let units = shape.split.then(|| self.configure_units(meta));
        let unit_column = units.map_or(self.a, |u| u.b);
        let fused = shape.rescale_max.then(|| {
            let q = meta.fixed_column();
            super::fused::configure(meta, unit_column, q);
            q
        });
        let requant = shape.requant.then(|| {
            let q = meta.fixed_column();
            super::requant_unit::configure(meta, self.a, q);
            q
        });
        let rescale = shape.rescale.then(|| {
            let q = meta.fixed_column();
            super::rescale_unit::configure(meta, unit_column, q);
            q
        });
        let wide = WideConfig {
            q,
            slots,
            fused,
            requant,
            rescale,
            units,
        };
        let a = self.a;
        meta.create_gate("shared-input dot", |mq| {
            let on = mq.query_fixed(wide.q, Rotation::cur());
            let mut w = |slot: WideSlot| {
                let (col, row) = slot.place(&wide);
                mq.query_fixed(col, Rotation(row as i32))
            };
            let cont = w(WideSlot::Cont);
            let fixed: Vec<(Vec<Expression<Fr>>, Expression<Fr>)> = (0..WIDE_GROUPS)
                .map(|g| {
                    let t = (0..WIDE_IN).map(|j| w(WideSlot::Weight(g, j))).collect();
                    (t, w(WideSlot::Bias(g)))
                })
                .collect();
            fixed
                .into_iter()
                .enumerate()
                .map(|(g, (weights, bias))| {
                    let mut sum = bias;
                    for o in g * WIDE_PACK..((g + 1) * WIDE_PACK).min(WIDE_OUT) {
                        let z = mq.query_advice(a, Rotation(o as i32));
                        let z_next = mq.query_advice(a, Rotation((WIDE_CELLS + o) as i32));
                        let f = Expression::Constant(WideSlot::pack_factor(o - g * WIDE_PACK));
                        sum = sum + f * (cont.clone() * z - z_next);
                    }
                    for (j, wj) in weights.into_iter().enumerate() {
                        sum = sum + wj * mq.query_advice(a, Rotation((WIDE_OUT + j) as i32));
                    }
                    on.clone() * sum
                })
                .collect::<Vec<_>>()
        });
        wide
    }

    /// A split circuit's unit column `b` (equality on, for the copies in and out of its
    /// units) and its limb lookup: `(0, q_lk·b, 0)`, the limb entry `(0, b, 0)` where
    /// `q_lk = 1` and the entry `(0, 0, 0)` elsewhere.
    fn configure_units(&self, meta: &mut ConstraintSystem<Fr>) -> UnitColumn {
        let b = meta.advice_column();
        meta.enable_equality(b);
        let q_lk = meta.fixed_column();
        let table = self.table;
        meta.lookup("unit limb", |mq| {
            let on = mq.query_fixed(q_lk, Rotation::cur());
            let cell = mq.query_advice(b, Rotation::cur());
            vec![
                (Expression::Constant(Fr::zero()), table[0]),
                (on * cell, table[1]),
                (Expression::Constant(Fr::zero()), table[2]),
            ]
        });
        UnitColumn { b, q_lk }
    }

    /// The tall layout's columns, gates and lookup.
    fn configure_tall(meta: &mut ConstraintSystem<Fr>) -> Self {
        let a = meta.advice_column();
        let [q, coef, sel, public, q_lk, ftag] = [(); 6].map(|_| meta.fixed_column());
        let table = [(); 3].map(|_| meta.lookup_table_column());
        let instance = meta.instance_column();
        meta.enable_equality(a);
        type Cells<'v> = halo2_axiom::plonk::VirtualCells<'v, Fr>;
        let x = |mq: &mut Cells<'_>, j: usize| mq.query_advice(a, at(j, false));
        let z = |mq: &mut Cells<'_>| mq.query_advice(a, at(LANES, false));
        let z_next = |mq: &mut Cells<'_>| mq.query_advice(a, at(LANES, true));
        let fixed = |mq: &mut Cells<'_>, k: Coef| {
            let (col, slot) = k.place(coef, sel);
            mq.query_fixed(col, at(slot, false))
        };

        // A block's gates are multiplied by `q`, which is 1 on its first row only: the
        // fixed values they read from the block's other rows belong to that block.
        meta.create_gate("linear", |mq| {
            let mut sum = fixed(mq, Coef::Const);
            for j in 0..LANES {
                sum = sum + fixed(mq, Coef::Lane(j)) * x(mq, j);
            }
            // + [chain = 2]·z − [chain ≠ 0]·z_next. Degree 3.
            let ch = fixed(mq, Coef::Chain);
            sum = sum + is_two(&ch) * z(mq) - nonzero(&ch) * z_next(mq);
            let prod = fixed(mq, Coef::Prod);
            let mul = x(mq, LANE_A) * x(mq, LANE_B);
            let mut pairs = x(mq, 0) * x(mq, 1);
            for j in 1..LANES / 2 {
                pairs = pairs + x(mq, 2 * j) * x(mq, 2 * j + 1);
            }
            // + [prod = 1]·x_A·x_B + [prod = 2]·pairs. Degree 4.
            sum = sum + is_one(&prod) * mul + is_two(&prod) * pairs;
            // The public rows: `public·(x_A − instance) = 0`. The instance is read on the
            // public rows only, so an instance value anywhere else constrains nothing (and
            // cannot stand in for a block's sum). Degree 5 in all.
            let public = mq.query_fixed(public, Rotation::cur())
                * (x(mq, LANE_A) - mq.query_instance(instance, Rotation::cur()));
            vec![mq.query_fixed(q, Rotation::cur()) * sum + public]
        });
        meta.create_gate("max chain", |mq| {
            let mv = fixed(mq, Coef::Max);
            let diff = x(mq, LANE_A) - x(mq, LANE_B);
            // On where m ≠ 0 (m itself is the factor: 1 or 2); the previous product is 1 on
            // the first block (m = 1) and `z` after it (m = 2): `(m − 1)·z + 2 − m`. Degree 5.
            let prev = (mv.clone() - k(1)) * z(mq) + k(2) - mv.clone();
            let on = mq.query_fixed(q, Rotation::cur()) * mv;
            vec![on * (z_next(mq) - diff * prev)]
        });
        // One lookup per row of `a`: `(t, (t + q_lk)·a, t·a_next)`. On a limb cell
        // (`q_lk = 1`, `t = 0`) it is the limb entry `(0, a, 0)`; on a function block's lane
        // `FN_LANES[0]` (tag `t`) it is `(t, t·x, t·y)`, on its lane `SECOND_LANE` (tag
        // `t + 1`) `(t + 1, (t + 1)·y2, (t + 1)·x)`. No cell is both (`Ctx` keeps function
        // lookups in blocks of their own).
        debug_assert!(FN_LANES[1] == FN_LANES[0] + 1 && SECOND_LANE + 1 == FN_LANES[0]);
        meta.lookup("limb or function", |mq| {
            let t = mq.query_fixed(ftag, Rotation::cur());
            let q = mq.query_fixed(q_lk, Rotation::cur());
            let [first, second] = [0, 1].map(|r| mq.query_advice(a, Rotation(r)));
            vec![
                (t.clone(), table[0]),
                ((t.clone() + q) * first, table[1]),
                (t * second, table[2]),
            ]
        });
        Self {
            a,
            q,
            coef,
            sel,
            public,
            q_lk,
            instance,
            ftag,
            table,
            wide: None,
        }
    }

    /// Rows the lookup table needs for `tables`: the limbs, then each function table (twice
    /// for a table with a second output).
    pub fn table_rows(tables: &[crate::ops::FnTable]) -> usize {
        let entries = |t: &crate::ops::FnTable| t.values.len() * (1 + t.has_second() as usize);
        (1 << LIMB_BITS) + tables.iter().map(entries).sum::<usize>()
    }

    /// The tag of each table's first output, in order from 1; a table with a second output
    /// takes the next tag for it too.
    pub fn tags(tables: &[crate::ops::FnTable]) -> Vec<i128> {
        let mut next = 1;
        tables
            .iter()
            .map(|t| {
                let tag = next;
                next += 1 + i128::from(t.has_second());
                tag
            })
            .collect()
    }

    /// Fills the lookup table: the limbs under tag 0, then each function table's
    /// `(t, t·x, t·f(x))` and, with a second output, `(t + 1, (t + 1)·g(x), (t + 1)·x)`.
    pub fn load_table(
        &self,
        layouter: &mut impl Layouter<Fr>,
        tables: &[crate::ops::FnTable],
    ) -> Result<(), Error> {
        use crate::field::to_field;
        let limbs = (0..1i128 << LIMB_BITS).map(|i| [0, i, 0]);
        let tags = Self::tags(tables);
        let functions = tables.iter().zip(tags).flat_map(|(table, t)| {
            let x = move |i: usize| i128::from(table.in_min) + i as i128;
            let first = table
                .values
                .iter()
                .enumerate()
                .map(move |(i, y)| [t, t * x(i), t * i128::from(*y)]);
            let t2 = t + 1;
            let second = table
                .second
                .iter()
                .enumerate()
                .map(move |(i, g)| [t2, t2 * i128::from(*g), t2 * x(i)]);
            first.chain(second)
        });
        layouter.assign_table(
            || "limbs and functions",
            |mut t| {
                for (row, vals) in limbs.clone().chain(functions.clone()).enumerate() {
                    for (col, v) in self.table.iter().zip(vals) {
                        t.assign_cell(|| "table", *col, row, || Value::known(to_field(v)))?;
                    }
                }
                Ok(())
            },
        )
    }
}
