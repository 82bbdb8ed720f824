//! Test support (feature `test-support`): everything a soundness test needs, in one place.
//!
//! * [`Tamper`]: overwrite or shift any advice cell after the honest layout, assigned or not
//!   ([`ModelCircuit::with_tamper`]), and [`ModelCircuit::forged`] to lay out a dishonest
//!   evaluation (a witness the oracle would never produce).
//! * [`failures`] / [`failures_with`]: MockProver's verdict as [`Failure`] values that name
//!   the gate or lookup and the row, to assert a specific failure exactly: [`gate_at`],
//!   [`lookup_at`], [`public_at`], and [`assert_rejected`] beside copies;
//!   [`failures_claiming`] for a forgery that also claims its lie in public.
//! * The lanes a tamper names, beside the chip's ([`LANE_A`],
//!   [`FN_LANES`](crate::chip::FN_LANES), …): [`Z`], [`limb`], [`pair`]; circuit rows by
//!   [`cell_row`], [`gate_row`] and [`public_cell`].
//! * [`check_no_free_cells`]: the free-cell guard ([`guard`]) over a whole circuit, with
//!   failures located by op, node, layout row and lane ([`Locator`]).
//! * [`one_node`], [`graph`]: one-op graphs for chip tests.

pub mod capture;
pub mod guard;
pub mod terms;

use crate::chip::{circuit_row, Layout, BLOCK, COLUMN_A, COLUMN_B, LANES, LANE_A, LIMBS};
use crate::graph::{Affine, Graph, GraphInput, Node};
use crate::ops::Op;
use crate::ModelCircuit;
use capture::{Capture, CellRef};
use halo2_axiom::dev::metadata::{Constraint, Gate};
use halo2_axiom::dev::{FailureLocation, MockProver, VerifyFailure};
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::plonk::Any;
use std::sync::Arc;

/// The cell a [`Tamper`] changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spot {
    /// Lane `lane` (`LANES`: `z`) of layout row `row`, counted from the first row after the
    /// public rows (whatever circuit rows its block takes).
    Lane {
        /// Advice lane, or `LANES` for `z`.
        lane: usize,
        /// Layout row after the public rows.
        row: usize,
    },
    /// The cell of the advice column at this circuit row (public rows included).
    Row(usize),
    /// The cell of a split circuit's unit column `b` at this row.
    Unit(usize),
}

/// How a [`Tamper`] changes its cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Adds to the honest value (zero where the layout assigns nothing).
    Add(Fr),
    /// Replaces the value.
    Set(Fr),
}

/// A deliberate change of one advice cell after the honest layout, for soundness tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tamper {
    /// The cell.
    pub spot: Spot,
    /// The change.
    pub change: Change,
}

impl Tamper {
    /// Adds `delta` to lane `lane` of layout row `row`.
    pub fn shift(lane: usize, row: usize, delta: i128) -> Self {
        Self {
            spot: Spot::Lane { lane, row },
            change: Change::Add(crate::field::to_field(delta)),
        }
    }

    /// Writes `value` into lane `lane` of layout row `row`.
    pub fn set(lane: usize, row: usize, value: i128) -> Self {
        Self {
            spot: Spot::Lane { lane, row },
            change: Change::Set(crate::field::to_field(value)),
        }
    }

    /// Adds `delta` to the cell at circuit row `row`.
    pub fn shift_row(row: usize, delta: Fr) -> Self {
        Self {
            spot: Spot::Row(row),
            change: Change::Add(delta),
        }
    }

    /// Writes `value` into the cell at circuit row `row`.
    pub fn set_row(row: usize, value: Fr) -> Self {
        Self {
            spot: Spot::Row(row),
            change: Change::Set(value),
        }
    }

    /// Adds `delta` to the cell at row `row` of a split circuit's unit column `b`.
    pub fn shift_unit(row: usize, delta: Fr) -> Self {
        Self {
            spot: Spot::Unit(row),
            change: Change::Add(delta),
        }
    }

    /// The cell, as (column, circuit row) with the column [`COLUMN_A`] or [`COLUMN_B`], in a circuit
    /// with `public` public rows.
    pub fn cell(&self, public: usize) -> (usize, usize) {
        match self.spot {
            Spot::Lane { lane, row } => (COLUMN_A, circuit_row(public, row + public, lane)),
            Spot::Row(r) => (COLUMN_A, r),
            Spot::Unit(r) => (COLUMN_B, r),
        }
    }

    /// The cell's new value given its current one.
    pub fn apply(&self, current: Fr) -> Fr {
        match self.change {
            Change::Add(d) => current + d,
            Change::Set(v) => v,
        }
    }
}

/// A constraint MockProver found violated, by name and circuit row.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    /// A gate (`"linear"`, `"max chain"`) does not vanish at `row`.
    Gate {
        /// Gate name.
        gate: String,
        /// Circuit row.
        row: usize,
    },
    /// The lookup's input at `row` is not in the table.
    Lookup {
        /// Circuit row.
        row: usize,
    },
    /// A copy constraint is broken at the cell of circuit row `row`.
    Copy {
        /// Circuit row.
        row: usize,
    },
    /// The unit column's limb lookup fails at `row` of a split circuit's column `b`.
    UnitLookup {
        /// Row of `b`.
        row: usize,
    },
    /// A copy constraint is broken at the cell of row `row` of a split circuit's column `b`.
    UnitCopy {
        /// Row of `b`.
        row: usize,
    },
    /// Anything else, as MockProver prints it.
    Other(String),
}

fn row_of(location: &FailureLocation) -> usize {
    match location {
        FailureLocation::InRegion { offset, .. } => *offset,
        FailureLocation::OutsideRegion { row } => *row,
    }
}

/// MockProver's failures of `c` at `k` rows with `instances`, named.
pub fn failures_with(c: &ModelCircuit, k: u32, instances: Vec<Fr>) -> Vec<Failure> {
    let prover = MockProver::run(k, c, vec![instances]).expect("synthesis succeeds");
    let mut cs = halo2_axiom::plonk::ConstraintSystem::<Fr>::default();
    crate::chip::ChipConfig::configure(&mut cs, c.shape());
    let gate_name = |constraint: &Constraint| {
        cs.gates().iter().enumerate().find_map(|(gi, g)| {
            (0..g.polynomials().len()).find_map(|pi| {
                let meta =
                    Constraint::from((Gate::from((gi, g.name())), pi, g.constraint_name(pi)));
                (meta == *constraint).then(|| g.name().to_string())
            })
        })
    };
    let mut out: Vec<Failure> = prover
        .verify()
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|f| match &f {
            VerifyFailure::ConstraintNotSatisfied {
                constraint,
                location,
                ..
            } => match gate_name(constraint) {
                Some(gate) => Failure::Gate {
                    gate,
                    row: row_of(location),
                },
                None => Failure::Other(f.to_string()),
            },
            VerifyFailure::Lookup {
                lookup_index: 0,
                location,
                ..
            } => Failure::Lookup {
                row: row_of(location),
            },
            VerifyFailure::Lookup {
                lookup_index: 1,
                location,
                ..
            } => Failure::UnitLookup {
                row: row_of(location),
            },
            VerifyFailure::Permutation { column, location }
                if column.column_type() == Any::advice() && column.index() == COLUMN_B =>
            {
                Failure::UnitCopy {
                    row: row_of(location),
                }
            }
            VerifyFailure::Permutation { location, .. } => Failure::Copy {
                row: row_of(location),
            },
            other => Failure::Other(other.to_string()),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// MockProver's failures of `c` changed by `tamper`, with its own instances at its smallest
/// size.
pub fn failures_tampered(c: &ModelCircuit, tamper: &[Tamper]) -> Vec<Failure> {
    let k = c.min_k().expect("sized");
    failures_with(&c.clone().with_tamper(tamper), k, c.instances())
}

/// MockProver's failures of `c` with its own instances at its smallest size (empty when
/// satisfied).
pub fn failures(c: &ModelCircuit) -> Vec<Failure> {
    failures_with(c, c.min_k().expect("sized"), c.instances())
}

/// MockProver's failures of `c` changed by `tamper` and by a public claim: the cell of
/// public row `index` and its instance both moved by `delta`, as a forger who publishes the
/// lie would do.
pub fn failures_claiming(
    c: &ModelCircuit,
    tamper: &[Tamper],
    index: usize,
    delta: i128,
) -> Vec<Failure> {
    let mut all = tamper.to_vec();
    all.push(Tamper::shift_row(
        public_cell(index),
        crate::field::to_field(delta),
    ));
    let mut instances = c.instances();
    instances[index] += crate::field::to_field(delta);
    failures_with(
        &c.clone().with_tamper(&all),
        c.min_k().expect("sized"),
        instances,
    )
}

/// The slot of `z` in a layout row, after its lanes: the lane a [`Tamper`] names for `z`.
pub const Z: usize = LANES;

/// The lane of limb `j` of a range row: the limbs fill lanes `0..LIMBS`, below [`LANE_A`].
pub fn limb(j: usize) -> usize {
    assert!(j < LIMBS, "a range row has {LIMBS} limbs");
    j
}

/// The two lanes of product `j` of a bilinear row (`x_2j·x_2j+1`, `LANES / 2` per row).
pub fn pair(j: usize) -> [usize; 2] {
    assert!(j < LANES / 2, "a bilinear row has {} products", LANES / 2);
    [2 * j, 2 * j + 1]
}

/// The circuit row of lane `lane` of layout row `row` (after `public` public rows).
pub fn cell_row(public: usize, lane: usize, row: usize) -> usize {
    circuit_row(public, row + public, lane)
}

/// The circuit row of public row `index`'s cell, the one its instance is bound to (its lane
/// A).
pub fn public_cell(index: usize) -> usize {
    circuit_row(index + 1, index, LANE_A)
}

/// The circuit row where the gates of layout row `row` sit (its first cell).
pub fn gate_row(public: usize, row: usize) -> usize {
    cell_row(public, 0, row)
}

/// A failure of gate `gate` on layout row `row` (after `public` public rows).
pub fn gate_at(gate: &str, public: usize, row: usize) -> Failure {
    Failure::Gate {
        gate: gate.into(),
        row: gate_row(public, row),
    }
}

/// A lookup failure at lane `lane` of layout row `row` (after `public` public rows): a limb's
/// lane, or a function row's input lane (`FN_LANES[0]`, or `SECOND_LANE` for a second
/// output), whose lookup reads the cell and the next ([`crate::chip`]).
pub fn lookup_at(public: usize, lane: usize, row: usize) -> Failure {
    Failure::Lookup {
        row: cell_row(public, lane, row),
    }
}

/// The failure of public row `index`: its instance is not its cell's value (the linear gate,
/// `x_A − instance = 0`, on the public row).
pub fn public_at(index: usize) -> Failure {
    Failure::Gate {
        gate: "linear".into(),
        row: index,
    }
}

/// Asserts that `fs` holds exactly the gate and lookup failures `exact` (in any order), a copy
/// failure at each circuit row of `copies`, and no more than two copy failures per listed
/// one (MockProver reports a changed cell and the cell before it in its copy cycle).
#[track_caller]
pub fn assert_rejected(fs: &[Failure], exact: &[Failure], copies: &[usize]) {
    let copies: Vec<Failure> = copies.iter().map(|&row| Failure::Copy { row }).collect();
    assert_rejected_copies(fs, exact, &copies);
}

/// [`assert_rejected`] with the copy failures given as [`Failure::Copy`] (a cell of `a`) or
/// [`Failure::UnitCopy`] (a cell of a split circuit's `b`).
#[track_caller]
pub fn assert_rejected_copies(fs: &[Failure], exact: &[Failure], copies: &[Failure]) {
    let mut want = exact.to_vec();
    want.sort();
    let is_copy = |f: &Failure| matches!(f, Failure::Copy { .. } | Failure::UnitCopy { .. });
    let non_copy: Vec<Failure> = fs.iter().filter(|f| !is_copy(f)).cloned().collect();
    assert_eq!(non_copy, want, "all failures: {fs:?}");
    for copy in copies {
        assert!(fs.contains(copy), "no copy failure {copy:?}: {fs:?}");
    }
    let n_copy = fs.len() - non_copy.len();
    assert!(n_copy <= 2 * copies.len(), "stray copy failures: {fs:?}");
}

/// Where a circuit row of a [`ModelCircuit`] lies: a public row, an input's rows, or a node's.
pub struct Locator {
    public: usize,
    nodes: Vec<(String, String, std::ops::Range<usize>)>,
}

impl Locator {
    /// The layout of `c`.
    pub fn new(c: &ModelCircuit) -> Self {
        let nodes = c
            .graph()
            .nodes
            .iter()
            .zip(c.node_rows())
            .map(|(n, rows)| (n.name.clone(), n.op.name().to_string(), rows))
            .collect();
        Self {
            public: c.public_rows(),
            nodes,
        }
    }

    /// `node 'fc1' (linear), layout row 12, lane 3` (or `z`, or a public row, or an input).
    pub fn describe(&self, circuit_row: usize) -> String {
        let first_block = self.public + LANE_A;
        if circuit_row < first_block {
            return format!("public rows (circuit row {circuit_row})");
        }
        let (row, slot) = (
            (circuit_row - first_block) / BLOCK,
            (circuit_row - first_block) % BLOCK,
        );
        let lane = if slot == LANES {
            "z".to_string()
        } else {
            format!("lane {slot}")
        };
        let owner = self
            .nodes
            .iter()
            .find(|(_, _, r)| r.contains(&row))
            .map_or_else(
                || "the graph inputs".to_string(),
                |(name, op, _)| format!("node '{name}' ({op})"),
            );
        format!("{owner}, layout row {row}, {lane} (circuit row {circuit_row})")
    }
}

/// Runs the free-cell guard ([`guard`]) on `c` at its smallest size: `Err` lists every
/// coverage hole and every accepted change of a live cell, located by node, layout row and
/// lane. Also checks that the honest assignment satisfies every constraint the guard models.
pub fn check_no_free_cells(c: &ModelCircuit) -> Result<guard::Report, String> {
    let k = c.min_k().map_err(|e| e.to_string())?;
    let cap = Capture::run(k, c, vec![c.instances()]).map_err(|e| format!("{e:?}"))?;
    let g = guard::Guard::new(&cap);
    if let Some((name, row)) = g.honest_failure() {
        return Err(format!(
            "the honest assignment fails {name} at circuit row {row}"
        ));
    }
    let report = g.run(8);
    if report.holes.is_empty() && report.findings.is_empty() {
        return Ok(report);
    }
    let at = Locator::new(c);
    let cell = |c: &CellRef| match c.column {
        COLUMN_A => at.describe(c.row),
        _ => format!("row {} of the unit column b", c.row),
    };
    let mut msg = String::new();
    for h in report.holes.iter().take(8) {
        msg += &format!(
            "coverage: {} at circuit row {} reads {} , which the layout neither assigns nor copies\n",
            h.constraint,
            h.row,
            cell(&h.cell)
        );
    }
    if report.holes.len() > 8 {
        msg += &format!("… {} coverage holes in all\n", report.holes.len());
    }
    for f in &report.findings {
        let cells: Vec<String> = f.changes.iter().map(|(c, _)| cell(c)).collect();
        msg += &format!("fuzzer: {} accepted on {}\n", f.kind, cells.join(" and "));
    }
    Err(msg)
}

/// `op` applied to one input `x` of `n` elements at fixed-point `scale` (or `affine`), with
/// an output of the same shape.
pub fn one_node(op: Op, n: usize, scale: i32, affine: Option<Affine>) -> Arc<Graph> {
    Arc::new(Graph {
        inputs: vec![GraphInput {
            name: "x".into(),
            shape: vec![n],
            scale,
            affine,
        }],
        nodes: vec![Node {
            name: "op".into(),
            op,
            inputs: vec![0],
            shape: vec![n],
            scale: 0,
            affine: None,
        }],
        outputs: vec![1],
        sources: vec![],
        layout: Default::default(),
        units_column: false,
    })
}

/// A chain in `layout` on an input `x` of `n_in` elements (scale 0): each `(name, op,
/// elements)` reads the tensor before it; the last is the output.
pub fn chain(n_in: usize, ops: Vec<(&str, Op, usize)>, layout: Layout) -> Arc<Graph> {
    let nodes = ops
        .into_iter()
        .enumerate()
        .map(|(input, (name, op, n))| node(name.into(), op, vec![input], n))
        .collect();
    on_input(n_in, nodes, layout)
}

/// `x → x·1 → rescale by 2^16` on `n` elements in the wide layout, its unit column as
/// compilation chooses ([`ModelCircuit::choose_units_column`]): the one-term dot products are
/// laid out row by row in `a`, so moving the rescale units and the inputs' range checks to
/// the unit column halves `a` once `n` fills the units' minimum.
pub fn dots_then_rescales(n: usize) -> Arc<Graph> {
    let rows = (0..n as u32)
        .map(|i| crate::ops::AffineRow {
            bias: 0,
            terms: vec![(i, 1)],
        })
        .collect();
    let ops = vec![
        ("scale", Op::Linear(crate::ops::Linear { rows }), n),
        ("rescale", Op::Rescale(crate::ops::Rescale { shift: 16 }), n),
    ];
    let g = Arc::unwrap_or_clone(chain(n, ops, Layout::Wide));
    let g = ModelCircuit::choose_units_column(g, crate::Visibility::default());
    Arc::new(g.expect("a valid graph"))
}

/// A graph in `layout` on an input `x` of `n_in` elements (scale 0) whose nodes are
/// `(op, inputs, elements)`, reading any tensor before them; the last node's output is the
/// graph's.
pub fn dag(n_in: usize, nodes: Vec<(Op, Vec<usize>, usize)>, layout: Layout) -> Arc<Graph> {
    let nodes = nodes
        .into_iter()
        .enumerate()
        .map(|(i, (op, inputs, n))| node(format!("n{i}"), op, inputs, n))
        .collect();
    on_input(n_in, nodes, layout)
}

/// A node of `n` elements at scale 0.
fn node(name: String, op: Op, inputs: Vec<usize>, n: usize) -> Node {
    Node {
        name,
        op,
        inputs,
        shape: vec![n],
        scale: 0,
        affine: None,
    }
}

/// `nodes` on an input `x` of `n_in` elements (scale 0), the last node's output the graph's.
fn on_input(n_in: usize, nodes: Vec<Node>, layout: Layout) -> Arc<Graph> {
    Arc::new(Graph {
        inputs: vec![GraphInput {
            name: "x".into(),
            shape: vec![n_in],
            scale: 0,
            affine: None,
        }],
        outputs: vec![nodes.len()],
        nodes,
        sources: vec![],
        layout,
        units_column: false,
    })
}

/// Tampers that move the inputs of two rescales by `2^shift`, laid out in rows from `row0`
/// and `row1` (the remainder's range row: the input in lane A, the output in lane B, the
/// low remainder limb in lane 0; then the output's range row, its copy in lane A), by
/// `d·2^PACK_BITS` and `−d` (errors that cancel in a packed constraint), each rescale's
/// witness moved to match: the first's output by `d·2^(PACK_BITS − shift)` with its copy and
/// its top limb, the second's low remainder limb by `−d` (which the caller keeps in range).
/// All that fails then is the first output's top limb: [`assert_first_rescale_out_of_range`].
pub fn cancelling_rescale_tampers(row0: usize, row1: usize, d: i128, shift: u32) -> Vec<Tamper> {
    let dy = d << (crate::chip::PACK_BITS - shift);
    vec![
        Tamper::shift(LANE_A, row0, d << crate::chip::PACK_BITS),
        Tamper::shift(crate::chip::LANE_B, row0, dy),
        Tamper::shift(LANE_A, row0 + 1, dy),
        Tamper::shift(2, row0 + 1, dy >> 16),
        Tamper::shift(LANE_A, row1, -d),
        Tamper::shift(0, row1, -d),
    ]
}

/// Asserts the failures of [`cancelling_rescale_tampers`] on a graph whose output 0 is the
/// first rescale's: its top limb's lookup, and its output's copy to its public cell (not
/// moved with it).
#[track_caller]
pub fn assert_first_rescale_out_of_range(fs: &[Failure], public: usize, row0: usize) {
    assert_rejected(
        fs,
        &[lookup_at(public, 2, row0 + 1)],
        &[public_cell(0), cell_row(public, LANE_A, row0 + 1)],
    );
}

/// `op` over inputs of `in_shapes` (scale 0) with output shape `out_shape`.
pub fn graph(op: Op, in_shapes: &[Vec<usize>], out_shape: Vec<usize>) -> Arc<Graph> {
    let inputs = in_shapes
        .iter()
        .enumerate()
        .map(|(i, s)| GraphInput {
            name: format!("x{i}"),
            shape: s.clone(),
            scale: 0,
            affine: None,
        })
        .collect();
    let n = in_shapes.len();
    Arc::new(Graph {
        inputs,
        nodes: vec![Node {
            name: "op".into(),
            op,
            inputs: (0..n).collect(),
            shape: out_shape,
            scale: 0,
            affine: None,
        }],
        outputs: vec![n],
        sources: vec![],
        layout: Default::default(),
        units_column: false,
    })
}

/// An honest circuit's two checks: MockProver accepts it, and the free-cell guard finds
/// nothing ([`check_no_free_cells`]). `Err` says what failed.
pub fn check_honest(c: &ModelCircuit) -> Result<(), String> {
    let fs = failures(c);
    if !fs.is_empty() {
        return Err(format!("MockProver: {fs:?}"));
    }
    check_no_free_cells(c).map(|_| ())
}
