//! The free-cell guard can fail: a planted free lane is reported by the coverage check (when
//! the layout leaves it unassigned) and by the fuzzer (when it is assigned but not copied),
//! and the guard's own constraint evaluation agrees with MockProver's on changes it accepts
//! and on changes it rejects.

use halo2_axiom::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::plonk::{Circuit, ConstraintSystem, Error};
use zkinfer_circuits::chip::{circuit_row, ChipConfig, Coef, BLOCK};
use zkinfer_circuits::ops::{Op, Relu};
use zkinfer_circuits::testing::capture::{Capture, CellRef};
use zkinfer_circuits::testing::guard::Guard;
use zkinfer_circuits::testing::{check_honest, failures_with, graph, pair, public_cell, Tamper, Z};
use zkinfer_circuits::{ModelCircuit, Visibility};

/// One bilinear row `z_next = x0·x1 + x2·x3` with `x0 = 3`, `x1 = 4` and its result bound to
/// the one public instance, laid out by hand: the second pair's lanes (2 and 3) are left
/// unassigned, or assigned zero without a copy (`assign_zeros`).
#[derive(Clone, Default)]
struct PlantedFreeLanes {
    assign_zeros: bool,
}

impl Circuit<Fr> for PlantedFreeLanes {
    type Config = ChipConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();

    fn without_witnesses(&self) -> Self {
        self.clone()
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> ChipConfig {
        ChipConfig::configure(meta, zkinfer_circuits::chip::Layout::Tall)
    }

    fn synthesize(&self, cfg: ChipConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        cfg.load_table(&mut layouter, &[])?;
        layouter.assign_region(
            || "planted",
            |mut region| {
                let block = block();
                let fixed = |region: &mut halo2_axiom::circuit::Region<'_, Fr>, k: Coef, v| {
                    let (col, slot) = k.place(cfg.coef, cfg.sel);
                    region.assign_fixed(col, block + slot, Fr::from(v));
                };
                region.assign_fixed(cfg.q, block, Fr::one());
                fixed(&mut region, Coef::Prod, 2);
                fixed(&mut region, Coef::Chain, 1);
                let [x0, x1] = pair(0);
                let mut lanes = vec![(x0, 3), (x1, 4)];
                if self.assign_zeros {
                    lanes.extend(pair(1).map(|lane| (lane, 0)));
                }
                for (lane, v) in lanes {
                    region.assign_advice(cfg.a, block + lane, Value::known(Fr::from(v)));
                }
                let z_next = circuit_row(1, 2, Z);
                region.assign_advice(cfg.a, z_next, Value::known(Fr::from(12)));
                region.assign_advice(cfg.a, public_cell(0), Value::known(Fr::from(12)));
                region.assign_fixed(cfg.public, 0, Fr::one());
                let cell = |row| halo2_axiom::circuit::Cell {
                    row_offset: row,
                    column: cfg.a.into(),
                };
                region.constrain_equal(cell(z_next), cell(public_cell(0)));
                Ok(())
            },
        )
    }
}

/// The circuit row of the planted row's first cell (after the one public row).
fn block() -> usize {
    circuit_row(1, 1, 0)
}

/// The circuit rows of the planted row's free lanes.
fn free_lanes() -> Vec<usize> {
    pair(1).iter().map(|lane| block() + lane).collect()
}

fn planted(assign_zeros: bool) -> Capture {
    let c = PlantedFreeLanes { assign_zeros };
    Capture::run(9, &c, vec![vec![Fr::from(12)]]).unwrap()
}

#[test]
fn an_unassigned_lane_is_a_coverage_hole_and_a_fuzzer_finding() {
    let cap = planted(false);
    let guard = Guard::new(&cap);
    assert_eq!(guard.honest_failure(), None);
    let holes: Vec<usize> = guard.holes().iter().map(|h| h.cell.row).collect();
    assert_eq!(holes, free_lanes());
    // Either lane alone takes any value (the other is zero). (Lanes 0 and 1 are fresh
    // witnesses here, so `(3 + 1)·(4 − 1)` is found too: a planted circuit's private inputs.)
    let report = guard.run(100);
    let singles: Vec<usize> = report
        .findings
        .iter()
        .filter(|f| f.kind == "single +r")
        .map(|f| f.changes[0].0.row)
        .collect();
    assert_eq!(singles, free_lanes());
}

#[test]
fn an_assigned_but_uncopied_lane_is_a_fuzzer_finding() {
    let cap = planted(true);
    let guard = Guard::new(&cap);
    assert!(guard.holes().is_empty());
    let report = guard.run(100);
    assert!(report
        .findings
        .iter()
        .any(|f| f.kind == "single +r" && f.changes[0].0.row == free_lanes()[0]));
}

#[test]
fn the_guard_and_mockprover_agree_on_single_changes() {
    let g = graph(Op::Relu(Relu {}), &[vec![2]], vec![2]);
    let c = ModelCircuit::new(g, &[vec![5, -3]], Visibility::default()).unwrap();
    check_honest(&c).unwrap();
    let k = c.min_k().unwrap();
    let cap = Capture::run(k, &c, vec![c.instances()]).unwrap();
    let guard = Guard::new(&cap);
    let used = c.rows() * BLOCK;
    let (mut accepted, mut rejected) = (0, 0);
    for row in 0..used {
        for delta in [Fr::one(), Fr::from(1 << 40)] {
            let cell = CellRef { column: 0, row };
            let new = cap.advice[0][row] + delta;
            let ours = guard.accepts(&[(cell, new)]);
            let tampered = c.clone().with_tamper(&[Tamper::set_row(row, new)]);
            let theirs = failures_with(&tampered, k, c.instances()).is_empty();
            assert_eq!(ours, theirs, "circuit row {row}, delta {delta:?}");
            if ours {
                accepted += 1;
            } else {
                rejected += 1;
            }
        }
    }
    // Both verdicts occur: unread cells (lanes above a row's limbs, rows' unused lanes) take
    // any value; every read one is pinned.
    assert!(
        accepted > 0 && rejected > 0,
        "{accepted} accepted, {rejected} rejected"
    );
}
