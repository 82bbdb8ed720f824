//! Column allocation, custom gates and lookup arguments.

use super::{LANES, LANE_A, LANE_B, LIMBS, LIMB_BITS};
use halo2_axiom::circuit::{Layouter, Value};
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::plonk::{
    Advice, Column, ConstraintSystem, Error, Expression, Fixed, Instance, TableColumn,
};
use halo2_axiom::poly::Rotation;

/// Columns of the zkinfer circuit. See the [module docs](super) for the gates.
#[derive(Clone, Debug)]
pub struct ChipConfig {
    /// Advice lanes.
    pub x: [Column<Advice>; LANES],
    /// Accumulator column.
    pub z: Column<Advice>,
    /// Per-lane coefficients of the linear gate.
    pub f: [Column<Fixed>; LANES],
    /// Coefficient of `z` (current row).
    pub fz: Column<Fixed>,
    /// Coefficient of `z` on the next row.
    pub fnext: Column<Fixed>,
    /// Constant term of the linear gate.
    pub c: Column<Fixed>,
    /// Enables the limb lookups.
    pub q_lk: Column<Fixed>,
    /// Enables the max-chain gate.
    pub q_max: Column<Fixed>,
    /// 1 on max-chain rows that continue a product, 0 on its first row.
    pub fp: Column<Fixed>,
    /// Enables the mul gate.
    pub q_mul: Column<Fixed>,
    /// Enables the bilinear gate (`fp` marks its continuation rows).
    pub q_bil: Column<Fixed>,
    /// Public instances: outputs, then public inputs.
    pub instance: Column<Instance>,
    /// The limb table `[0, 2^LIMB_BITS)`.
    pub table: TableColumn,
    /// Enables the function lookup on lanes A (input), B (output) and B + 1 (second output).
    pub q_fn: Column<Fixed>,
    /// Tag of the function table a row looks up in.
    pub ftag: Column<Fixed>,
    /// Function tables: tag, input, output, second output (row 0 is the all-zero entry).
    pub fn_table: [TableColumn; 4],
}

impl ChipConfig {
    /// Allocates the columns and registers gates and lookups.
    pub fn configure(meta: &mut ConstraintSystem<Fr>) -> Self {
        let x = [(); LANES].map(|_| meta.advice_column());
        let z = meta.advice_column();
        let f = [(); LANES].map(|_| meta.fixed_column());
        let [fz, fnext, c, q_lk, q_max, fp, q_mul] = [(); 7].map(|_| meta.fixed_column());
        let konst = meta.fixed_column();
        let [q_fn, ftag, q_bil] = [(); 3].map(|_| meta.fixed_column());
        let fn_table = [(); 4].map(|_| meta.lookup_table_column());
        let instance = meta.instance_column();
        let table = meta.lookup_table_column();
        for col in x.iter().chain([&z]) {
            meta.enable_equality(*col);
        }
        meta.enable_equality(instance);
        meta.enable_constant(konst);

        meta.create_gate("linear", |m| {
            let mut sum = m.query_fixed(c, Rotation::cur());
            for j in 0..LANES {
                sum = sum
                    + m.query_fixed(f[j], Rotation::cur()) * m.query_advice(x[j], Rotation::cur());
            }
            sum = sum
                + m.query_fixed(fz, Rotation::cur()) * m.query_advice(z, Rotation::cur())
                + m.query_fixed(fnext, Rotation::cur()) * m.query_advice(z, Rotation::next());
            vec![sum]
        });
        meta.create_gate("max chain", |m| {
            let q = m.query_fixed(q_max, Rotation::cur());
            let p = m.query_fixed(fp, Rotation::cur());
            let diff = m.query_advice(x[LANE_A], Rotation::cur())
                - m.query_advice(x[LANE_B], Rotation::cur());
            let prev = p.clone() * m.query_advice(z, Rotation::cur())
                + (Expression::Constant(Fr::one()) - p);
            vec![q * (m.query_advice(z, Rotation::next()) - diff * prev)]
        });
        meta.create_gate("mul", |m| {
            let q = m.query_fixed(q_mul, Rotation::cur());
            let prod = m.query_advice(x[LANE_A], Rotation::cur())
                * m.query_advice(x[LANE_B], Rotation::cur());
            vec![q * (m.query_advice(z, Rotation::next()) - prod)]
        });
        meta.create_gate("bilinear", |m| {
            let q = m.query_fixed(q_bil, Rotation::cur());
            let p = m.query_fixed(fp, Rotation::cur());
            let mut sum = p * m.query_advice(z, Rotation::cur());
            for j in 0..LANES / 2 {
                sum = sum
                    + m.query_advice(x[2 * j], Rotation::cur())
                        * m.query_advice(x[2 * j + 1], Rotation::cur());
            }
            vec![q * (m.query_advice(z, Rotation::next()) - sum)]
        });
        for lane in x.iter().take(LIMBS) {
            meta.lookup("limb", |m| {
                let q = m.query_fixed(q_lk, Rotation::cur());
                vec![(q * m.query_advice(*lane, Rotation::cur()), table)]
            });
        }
        meta.lookup("function", |m| {
            let q = m.query_fixed(q_fn, Rotation::cur());
            vec![
                (m.query_fixed(ftag, Rotation::cur()), fn_table[0]),
                (
                    q.clone() * m.query_advice(x[LANE_A], Rotation::cur()),
                    fn_table[1],
                ),
                (
                    q.clone() * m.query_advice(x[LANE_B], Rotation::cur()),
                    fn_table[2],
                ),
                (
                    q * m.query_advice(x[LANE_B + 1], Rotation::cur()),
                    fn_table[3],
                ),
            ]
        });
        Self {
            q_bil,
            q_fn,
            ftag,
            fn_table,
            x,
            z,
            f,
            fz,
            fnext,
            c,
            q_lk,
            q_max,
            fp,
            q_mul,
            instance,
            table,
        }
    }

    /// Fills the function tables: `(0, 0, 0, 0)`, then each table's `(tag, x, f(x), g(x))` with tags
    /// from 1 in order.
    pub fn load_fn_tables(
        &self,
        layouter: &mut impl Layouter<Fr>,
        tables: &[crate::ops::FnTable],
    ) -> Result<(), Error> {
        use crate::field::to_field;
        layouter.assign_table(
            || "functions",
            |mut t| {
                let mut row = 0;
                let mut put = |t: &mut halo2_axiom::circuit::Table<'_, Fr>,
                               vals: [i128; 4]|
                 -> Result<(), Error> {
                    for (col, v) in self.fn_table.iter().zip(vals) {
                        t.assign_cell(|| "fn", *col, row, || Value::known(to_field(v)))?;
                    }
                    row += 1;
                    Ok(())
                };
                put(&mut t, [0, 0, 0, 0])?;
                for (tag, table) in tables.iter().enumerate() {
                    for (i, y) in table.values.iter().enumerate() {
                        put(
                            &mut t,
                            [
                                tag as i128 + 1,
                                i128::from(table.in_min) + i as i128,
                                i128::from(*y),
                                table.second.get(i).map_or(0, |v| i128::from(*v)),
                            ],
                        )?;
                    }
                }
                Ok(())
            },
        )
    }

    /// Fills the limb table.
    pub fn load_table(&self, layouter: &mut impl Layouter<Fr>) -> Result<(), Error> {
        layouter.assign_table(
            || "limbs",
            |mut t| {
                for i in 0..(1u64 << LIMB_BITS) {
                    t.assign_cell(
                        || "limb",
                        self.table,
                        i as usize,
                        || Value::known(Fr::from(i)),
                    )?;
                }
                Ok(())
            },
        )
    }
}
