//! Column allocation, custom gates and lookup arguments.

use super::{FN_LANES, LANES, LANE_A, LANE_B, LIMBS, LIMB_BITS};
use halo2_axiom::circuit::{Layouter, Value};
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::plonk::{
    Advice, Column, ConstraintSystem, Error, Expression, Fixed, Instance, TableColumn,
};
use halo2_axiom::poly::Rotation;

/// Columns of the zkinfer circuit. See the [module docs](super) for the gates.
///
/// The layout is kept lean because every column costs the on-chain verifier a commitment
/// (an elliptic-curve multiplication, ~6,500 gas) and an evaluation: selectors share columns
/// (`s`, `m`), the function lookup is enabled by its tag, the limb table lives in the
/// function table under tag 0, and constants are fixed by the linear gate rather than a
/// constants column.
#[derive(Clone, Debug)]
pub struct ChipConfig {
    /// Advice lanes.
    pub x: [Column<Advice>; LANES],
    /// Accumulator column.
    pub z: Column<Advice>,
    /// Per-lane coefficients of the linear gate.
    pub f: [Column<Fixed>; LANES],
    /// Chains rows through `z`: 1 makes the row's sum `z_next`, 2 makes `z + sum` `z_next`.
    pub chain: Column<Fixed>,
    /// Constant term of the linear gate.
    pub c: Column<Fixed>,
    /// Product term of the linear gate: 1 adds `x_A·x_B`, 2 adds `Σ_j x_{2j}·x_{2j+1}`.
    pub s: Column<Fixed>,
    /// Enables the limb lookups.
    pub q_lk: Column<Fixed>,
    /// Max chain: 1 on its first row, 2 on the rows that continue the product.
    pub m: Column<Fixed>,
    /// Public instances: outputs, then public inputs.
    pub instance: Column<Instance>,
    /// Tag of the function table a row looks up in (0: no function lookup).
    pub ftag: Column<Fixed>,
    /// The lookup table: tag, input, output, second output. Tag 0 holds the limbs
    /// `(0, i, 0, 0)` for `i ∈ [0, 2^LIMB_BITS)`; a function table with tag `t ≥ 1` holds
    /// `(t, t·x, t·f(x), t·g(x))`.
    pub table: [TableColumn; 4],
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
fn is_one(v: &Expression<Fr>) -> Expression<Fr> {
    v.clone() * (k(2) - v.clone())
}

fn is_two(v: &Expression<Fr>) -> Expression<Fr> {
    v.clone() * (v.clone() - k(1)) * half()
}

fn nonzero(v: &Expression<Fr>) -> Expression<Fr> {
    v.clone() * (k(3) - v.clone()) * half()
}

impl ChipConfig {
    /// Allocates the columns and registers gates and lookups.
    pub fn configure(meta: &mut ConstraintSystem<Fr>) -> Self {
        let x = [(); LANES].map(|_| meta.advice_column());
        let z = meta.advice_column();
        let f = [(); LANES].map(|_| meta.fixed_column());
        let [chain, c, s, q_lk, m, ftag] = [(); 6].map(|_| meta.fixed_column());
        let table = [(); 4].map(|_| meta.lookup_table_column());
        let instance = meta.instance_column();
        for col in x.iter().chain([&z]) {
            meta.enable_equality(*col);
        }

        meta.create_gate("linear", |mq| {
            let adv = |mq: &mut halo2_axiom::plonk::VirtualCells<'_, Fr>, j: usize| {
                mq.query_advice(x[j], Rotation::cur())
            };
            // The instance column is nonzero only on the public rows (`Ctx::public`).
            let mut sum =
                mq.query_fixed(c, Rotation::cur()) - mq.query_instance(instance, Rotation::cur());
            for (j, fj) in f.iter().enumerate() {
                sum = sum + mq.query_fixed(*fj, Rotation::cur()) * adv(mq, j);
            }
            // + [chain = 2]·z − [chain ≠ 0]·z_next. Degree 3.
            let ch = mq.query_fixed(chain, Rotation::cur());
            sum = sum + is_two(&ch) * mq.query_advice(z, Rotation::cur())
                - nonzero(&ch) * mq.query_advice(z, Rotation::next());
            let sel = mq.query_fixed(s, Rotation::cur());
            let mul = adv(mq, LANE_A) * adv(mq, LANE_B);
            let mut pairs = adv(mq, 0) * adv(mq, 1);
            for j in 1..LANES / 2 {
                pairs = pairs + adv(mq, 2 * j) * adv(mq, 2 * j + 1);
            }
            // + [s = 1]·x_A·x_B + [s = 2]·pairs. Degree 4.
            sum = sum + is_one(&sel) * mul + is_two(&sel) * pairs;
            vec![sum]
        });
        meta.create_gate("max chain", |mq| {
            let mv = mq.query_fixed(m, Rotation::cur());
            let diff = mq.query_advice(x[LANE_A], Rotation::cur())
                - mq.query_advice(x[LANE_B], Rotation::cur());
            // On where m ≠ 0; the previous product is 1 on the first row (m = 1) and `z`
            // after it (m = 2): `(m − 1)·z + 2 − m`. Degree 5.
            let prev =
                (mv.clone() - k(1)) * mq.query_advice(z, Rotation::cur()) + k(2) - mv.clone();
            vec![nonzero(&mv) * (mq.query_advice(z, Rotation::next()) - diff * prev)]
        });
        // Limbs 0 .. LIMBS − 1 have a lookup each; the last limb shares the function lookup,
        // whose second entry is `(t + q_lk)·x_{LIMBS−1}`: `t·x` on function rows (tag t, lanes
        // FN_LANES), the limb on range rows. No row does both (`Ctx` keeps function lookups on
        // rows of their own).
        for lane in x.iter().take(LIMBS - 1) {
            meta.lookup("limb", |mq| {
                let q = mq.query_fixed(q_lk, Rotation::cur());
                let zero = Expression::Constant(Fr::zero());
                vec![
                    (zero.clone(), table[0]),
                    (q * mq.query_advice(*lane, Rotation::cur()), table[1]),
                    (zero.clone(), table[2]),
                    (zero, table[3]),
                ]
            });
        }
        debug_assert_eq!(FN_LANES[0], LIMBS - 1);
        meta.lookup("function or last limb", |mq| {
            let t = mq.query_fixed(ftag, Rotation::cur());
            let q = mq.query_fixed(q_lk, Rotation::cur());
            let [a, b, c] = FN_LANES.map(|j| mq.query_advice(x[j], Rotation::cur()));
            vec![
                (t.clone(), table[0]),
                ((t.clone() + q) * a, table[1]),
                (t.clone() * b, table[2]),
                (t * c, table[3]),
            ]
        });
        Self {
            x,
            z,
            f,
            chain,
            c,
            s,
            q_lk,
            m,
            instance,
            ftag,
            table,
        }
    }

    /// Rows the lookup table needs for `tables`: the limbs, then each function table.
    pub fn table_rows(tables: &[crate::ops::FnTable]) -> usize {
        (1 << LIMB_BITS) + tables.iter().map(|t| t.values.len()).sum::<usize>()
    }

    /// Fills the lookup table: the limbs under tag 0, then each function table's
    /// `(t, t·x, t·f(x), t·g(x))` with tags `t` from 1 in order.
    pub fn load_table(
        &self,
        layouter: &mut impl Layouter<Fr>,
        tables: &[crate::ops::FnTable],
    ) -> Result<(), Error> {
        use crate::field::to_field;
        let limbs = (0..1i128 << LIMB_BITS).map(|i| [0, i, 0, 0]);
        let functions = tables.iter().enumerate().flat_map(|(tag, table)| {
            let t = tag as i128 + 1;
            table.values.iter().enumerate().map(move |(i, y)| {
                let second = table.second.get(i).map_or(0, |v| i128::from(*v));
                let x = i128::from(table.in_min) + i as i128;
                [t, t * x, t * i128::from(*y), t * second]
            })
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
