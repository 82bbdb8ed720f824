//! The gas floor of this verifier design for a circuit that can hold a quantized linear layer.
//!
//! One advice column queried at rotations −1, 0, +1 carries everything: a multiply-accumulate
//! gate `a(+1) = a(−1) + w·a(0)` with weights in one fixed column, a range lookup (8-bit
//! remainders of a requantization), copy constraints, and three public outputs bound by a gate
//! on reserved rows, as zkinfer's chip binds them. It computes mlp_iris's last layer shape
//! (4 inputs, 3 outputs, logrows 9) but no activation; a circuit that can also compute one
//! needs at least this much. Its proofs are accepted in revm, a changed output is rejected,
//! and the gas is printed (`--nocapture`) for `docs/evm.md`.

mod common;

use halo2_axiom::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::plonk::{
    Advice, Circuit, Column, ConstraintSystem, Error, Fixed, Selector, TableColumn,
};
use halo2_axiom::poly::Rotation;

/// Requantization shift: outputs are `acc >> SHIFT`, remainders are looked up in `[0, 2^SHIFT)`.
const SHIFT: u32 = 8;
const X: [i64; 4] = [51, 35, 14, 2];
const W: [[i64; 4]; 3] = [[40, 90, -120, -60], [30, -70, 80, 10], [-90, -40, 150, 170]];

#[derive(Clone, Debug)]
struct Config {
    a: Column<Advice>,
    w: Column<Fixed>,
    q_mac: Selector,
    q_zero: Selector,
    q_pub: Selector,
    q_range: Selector,
    table: TableColumn,
}

#[derive(Clone, Default)]
struct Layer;

fn outputs() -> Vec<i64> {
    W.iter()
        .map(|row| row.iter().zip(X).map(|(w, x)| w * x).sum::<i64>() >> SHIFT)
        .collect()
}

fn fr(v: i64) -> Fr {
    if v < 0 {
        -Fr::from(v.unsigned_abs())
    } else {
        Fr::from(v as u64)
    }
}

impl Circuit<Fr> for Layer {
    type Config = Config;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();

    fn without_witnesses(&self) -> Self {
        Layer
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> Config {
        let (a, w, instance) = (
            meta.advice_column(),
            meta.fixed_column(),
            meta.instance_column(),
        );
        let (q_mac, q_zero, q_pub) = (meta.selector(), meta.selector(), meta.selector());
        let q_range = meta.complex_selector();
        let table = meta.lookup_table_column();
        meta.enable_equality(a);
        meta.create_gate("layer", |m| {
            let (prev, cur, next) = (
                m.query_advice(a, Rotation::prev()),
                m.query_advice(a, Rotation::cur()),
                m.query_advice(a, Rotation::next()),
            );
            let w = m.query_fixed(w, Rotation::cur());
            let pub_value = m.query_instance(instance, Rotation::cur());
            vec![
                m.query_selector(q_mac) * (next - prev - w * cur.clone()),
                m.query_selector(q_zero) * cur.clone(),
                m.query_selector(q_pub) * (cur - pub_value),
            ]
        });
        meta.lookup("range", |m| {
            let q = m.query_selector(q_range);
            vec![(q * m.query_advice(a, Rotation::cur()), table)]
        });
        Config {
            a,
            w,
            q_mac,
            q_zero,
            q_pub,
            q_range,
            table,
        }
    }

    fn synthesize(&self, cfg: Config, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        layouter.assign_table(
            || "range",
            |mut t| {
                for i in 0..1u64 << SHIFT {
                    t.assign_cell(|| "r", cfg.table, i as usize, || Value::known(Fr::from(i)))?;
                }
                Ok(())
            },
        )?;
        layouter.assign_region(
            || "layer",
            |mut region| {
                let ys = outputs();
                let mut public = Vec::new();
                for (row, y) in ys.iter().enumerate() {
                    cfg.q_pub.enable(&mut region, row)?;
                    public.push(
                        region
                            .assign_advice(cfg.a, row, Value::known(fr(*y)))
                            .cell(),
                    );
                }
                // Per output: 0, x1, acc1, …, x4, acc4 (w on the x rows); then the requantization
                // chain remainder, y (w = 2^SHIFT), acc4 again.
                let mut row = ys.len();
                for (j, weights) in W.iter().enumerate() {
                    cfg.q_zero.enable(&mut region, row)?;
                    region.assign_advice(cfg.a, row, Value::known(Fr::zero()));
                    let (mut acc, mut acc_cell) = (0i64, None);
                    for (w, x) in weights.iter().zip(X) {
                        cfg.q_mac.enable(&mut region, row + 1)?;
                        region.assign_fixed(cfg.w, row + 1, fr(*w));
                        region.assign_advice(cfg.a, row + 1, Value::known(fr(x)));
                        acc += w * x;
                        acc_cell =
                            Some(region.assign_advice(cfg.a, row + 2, Value::known(fr(acc))));
                        row += 2;
                    }
                    let rem = acc - (ys[j] << SHIFT);
                    cfg.q_range.enable(&mut region, row + 1)?;
                    region.assign_advice(cfg.a, row + 1, Value::known(fr(rem)));
                    cfg.q_mac.enable(&mut region, row + 2)?;
                    region.assign_fixed(cfg.w, row + 2, Fr::from(1u64 << SHIFT));
                    let y = region.assign_advice(cfg.a, row + 2, Value::known(fr(ys[j])));
                    region.constrain_equal(y.cell(), public[j]);
                    let again = region.assign_advice(cfg.a, row + 3, Value::known(fr(acc)));
                    region.constrain_equal(again.cell(), acc_cell.expect("four terms").cell());
                    row += 4;
                }
                Ok(())
            },
        )
    }
}

#[test]
fn gas_floor_of_a_linear_layer() {
    let instances: Vec<Fr> = outputs().into_iter().map(fr).collect();
    let run = common::prove_and_run(9, Layer, &instances);
    let cs = &run.cs;
    eprintln!(
        "linear-layer floor (1 advice, {} fixed, 1 lookup, degree {}): {} gas, proof {} bytes",
        cs.num_fixed_columns(),
        cs.degree(),
        run.gas,
        run.proof.len()
    );
    let mut wrong = instances.clone();
    wrong[2] += Fr::one();
    common::assert_rejected(&run, &wrong);
}
