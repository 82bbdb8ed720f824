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
    /// Public instances: outputs, then public inputs.
    pub instance: Column<Instance>,
    /// The limb table `[0, 2^LIMB_BITS)`.
    pub table: TableColumn,
}

impl ChipConfig {
    /// Allocates the columns and registers gates and lookups.
    pub fn configure(meta: &mut ConstraintSystem<Fr>) -> Self {
        let x = [(); LANES].map(|_| meta.advice_column());
        let z = meta.advice_column();
        let f = [(); LANES].map(|_| meta.fixed_column());
        let [fz, fnext, c, q_lk, q_max, fp, q_mul] = [(); 7].map(|_| meta.fixed_column());
        let konst = meta.fixed_column();
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
        for lane in x.iter().take(LIMBS) {
            meta.lookup("limb", |m| {
                let q = m.query_fixed(q_lk, Rotation::cur());
                vec![(q * m.query_advice(*lane, Rotation::cur()), table)]
            });
        }
        Self {
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
