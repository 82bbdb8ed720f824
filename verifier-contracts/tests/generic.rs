//! The generator is not tied to zkinfer's layout: a small circuit of another shape (a
//! Fibonacci gate over rotations −1, 0, +1, compressed selectors, one range lookup, two
//! public values) gets a verifier that accepts its proofs in revm and rejects a changed
//! public value. It also measures the gas of a minimal layout (printed).

mod common;

use halo2_axiom::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_axiom::halo2curves::bn256::{Fr, G1Affine};
use halo2_axiom::plonk::{
    Advice, Circuit, Column, ConstraintSystem, Error, Instance, Selector, TableColumn,
};
use halo2_axiom::poly::commitment::ParamsProver;
use halo2_axiom::poly::Rotation;

const ROWS: usize = 10;

#[derive(Clone, Debug)]
struct Config {
    a: Column<Advice>,
    b: Column<Advice>,
    q_fib: Selector,
    q_range: Selector,
    table: TableColumn,
    instance: Column<Instance>,
}

#[derive(Clone, Default)]
struct Fib;

fn fib() -> Vec<u64> {
    let mut v = vec![1u64, 1];
    while v.len() < ROWS {
        v.push(v[v.len() - 1] + v[v.len() - 2]);
    }
    v
}

impl Circuit<Fr> for Fib {
    type Config = Config;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();

    fn without_witnesses(&self) -> Self {
        Fib
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> Config {
        let (a, b) = (meta.advice_column(), meta.advice_column());
        let instance = meta.instance_column();
        let (q_fib, q_range) = (meta.selector(), meta.complex_selector());
        let table = meta.lookup_table_column();
        meta.enable_equality(a);
        meta.enable_equality(instance);
        meta.create_gate("fib", |m| {
            let q = m.query_selector(q_fib);
            let prev = m.query_advice(a, Rotation::prev());
            let cur = m.query_advice(a, Rotation::cur());
            let next = m.query_advice(a, Rotation::next());
            vec![q * (next - cur - prev)]
        });
        meta.lookup("range", |m| {
            let q = m.query_selector(q_range);
            vec![(q * m.query_advice(b, Rotation::cur()), table)]
        });
        Config {
            a,
            b,
            q_fib,
            q_range,
            table,
            instance,
        }
    }

    fn synthesize(&self, cfg: Config, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        layouter.assign_table(
            || "range",
            |mut t| {
                for i in 0..16u64 {
                    t.assign_cell(|| "r", cfg.table, i as usize, || Value::known(Fr::from(i)))?;
                }
                Ok(())
            },
        )?;
        let v = fib();
        let (first, last) = layouter.assign_region(
            || "fib",
            |mut region| {
                let mut cells = Vec::new();
                for (row, x) in v.iter().enumerate() {
                    cells.push(
                        region
                            .assign_advice(cfg.a, row, Value::known(Fr::from(*x)))
                            .cell(),
                    );
                    region.assign_advice(cfg.b, row, Value::known(Fr::from(row as u64)));
                    cfg.q_range.enable(&mut region, row)?;
                    if row > 0 && row + 1 < ROWS {
                        cfg.q_fib.enable(&mut region, row)?;
                    }
                }
                Ok((cells[0], cells[ROWS - 1]))
            },
        )?;
        layouter.constrain_instance(first, cfg.instance, 0);
        layouter.constrain_instance(last, cfg.instance, 1);
        Ok(())
    }
}

#[test]
fn verifier_of_another_shape() {
    let instances = [Fr::from(1), Fr::from(fib()[ROWS - 1])];
    let run = common::prove_and_run(5, Fib, &instances);
    assert_eq!(run.params.get_g()[0], G1Affine::generator());
    assert_eq!(run.generated.proof_len, run.proof.len());
    eprintln!(
        "minimal layout (2 advice, 1 lookup, 2 equality columns): {} gas, proof {} bytes, runtime {} bytes",
        run.gas,
        run.proof.len(),
        run.compiled.runtime.len()
    );
    let wrong = [Fr::from(1), Fr::from(fib()[ROWS - 1] + 1)];
    common::assert_rejected(&run, &wrong);
}
