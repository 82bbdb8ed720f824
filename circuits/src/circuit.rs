//! The whole graph as one halo2 circuit, and its sizing.

use crate::chip::{ChipConfig, ChipShape, Ctx, Layout, OutputBound, Wire};
use crate::error::{CircuitError, Result};
use crate::field::to_field;
use crate::graph::Graph;
use crate::ops::fused::{self, Fusion};
use crate::tensor::Tensor;
use halo2_axiom::circuit::{Layouter, SimpleFloorPlanner};
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::plonk::{Circuit, ConstraintSystem, Error};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The name under which [`ModelCircuit::circuit_rows_by_op`] gives the rows of a split
/// circuit's unit column (its rescale and rescale-max units and its inputs' range checks),
/// beside the advice column `a` rather than in it.
pub const UNIT_COLUMN: &str = "units (column b)";

/// Largest logrows this crate will lay out.
pub const MAX_K: u32 = 26;

/// Which graph inputs are public instances (outputs always are).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Visibility {
    /// Expose the inputs as public instances after the outputs.
    pub public_input: bool,
}

impl Visibility {
    /// Public instances of `graph`'s circuit: every output element, then every input
    /// element when inputs are public. A verifier must be given exactly this many.
    pub fn num_instances(&self, graph: &Graph) -> usize {
        let outputs: usize = graph
            .outputs
            .iter()
            .map(|o| graph.shape(*o).iter().product::<usize>())
            .sum();
        let inputs: usize = if self.public_input {
            graph
                .inputs
                .iter()
                .map(|i| i.shape.iter().product::<usize>())
                .sum()
        } else {
            0
        };
        outputs + inputs
    }
}

/// How big a circuit is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    /// Layout rows (rows of lanes), the public rows included.
    pub rows: usize,
    /// Circuit rows they take: each layout row is a block of [`crate::chip::BLOCK`] cells
    /// of the advice column `a`; in a split circuit, the more of those and the rows of its
    /// unit column.
    pub circuit_rows: usize,
    /// Smallest logrows that fits them, the lookup table and the blinding rows.
    pub logrows: u32,
}

/// A quantized graph with one assignment of its inputs.
#[derive(Clone, Debug)]
pub struct ModelCircuit {
    graph: Arc<Graph>,
    values: Arc<Vec<Tensor>>,
    visibility: Visibility,
    #[cfg(feature = "test-support")]
    tamper: Vec<crate::testing::Tamper>,
    tables: Arc<Vec<crate::ops::FnTable>>,
    shape: ChipShape,
}

impl ModelCircuit {
    /// Evaluates the graph on `inputs` (quantized) and prepares the witness.
    pub fn new(graph: Arc<Graph>, inputs: &[Vec<i128>], visibility: Visibility) -> Result<Self> {
        let values = graph.eval(inputs)?;
        Ok(Self::with_values(graph, values, visibility))
    }

    /// The circuit's shape with all-zero cells, for key generation and sizing (no input needs
    /// to be valid for it).
    pub fn blank(graph: Arc<Graph>, visibility: Visibility) -> Result<Self> {
        graph.validate()?;
        let values = (0..graph.inputs.len() + graph.nodes.len())
            .map(|id| {
                let shape = graph.shape(id).to_vec();
                let n = shape.iter().product();
                Tensor::new(shape, vec![0; n])
            })
            .collect();
        Ok(Self::with_values(graph, values, visibility))
    }

    fn with_values(graph: Arc<Graph>, values: Vec<Tensor>, visibility: Visibility) -> Self {
        let mut tables: Vec<crate::ops::FnTable> = Vec::new();
        for table in graph.nodes.iter().flat_map(|n| n.op.tables()) {
            if !tables.contains(&table) {
                tables.push(table);
            }
        }
        Self {
            shape: graph.chip_shape(),
            graph,
            values: Arc::new(values),
            visibility,
            #[cfg(feature = "test-support")]
            tamper: Vec::new(),
            tables: Arc::new(tables),
        }
    }

    /// `graph` with its rescale and rescale-max units and its signed inputs' range checks in a
    /// column of their own ([`Graph::units_column`]) where that lowers its logrows, and in `a`
    /// otherwise: a second advice column, its lookup and its permutation column cost every
    /// row of the proof, so they pay only where the circuit halves. Compilation decides it,
    /// from a dry run of the layout each way.
    pub fn choose_units_column(mut graph: Graph, visibility: Visibility) -> Result<Graph> {
        graph.units_column = true;
        let two = Self::blank(Arc::new(graph.clone()), visibility)?;
        graph.units_column = false;
        if !two.shape.split {
            return Ok(graph);
        }
        let one = Self::blank(Arc::new(graph.clone()), visibility)?;
        // Too large either way: sizing the graph says so.
        graph.units_column = match (one.size(), two.size()) {
            (Ok(one), Ok(two)) => two.logrows < one.logrows,
            (Err(_), Ok(_)) => true,
            (_, Err(_)) => false,
        };
        Ok(graph)
    }

    /// The circuit's shape: its layout and the optional gates and columns it has.
    pub fn shape(&self) -> ChipShape {
        self.shape
    }

    /// Changes advice cells after the honest layout, assigned or not (soundness tests).
    #[cfg(feature = "test-support")]
    pub fn with_tamper(mut self, tamper: &[crate::testing::Tamper]) -> Self {
        self.tamper = tamper.to_vec();
        self
    }

    /// A circuit laid out from `values` as they are, not from the oracle: a dishonest
    /// evaluation, for soundness tests that forge a witness.
    #[cfg(feature = "test-support")]
    pub fn forged(graph: Arc<Graph>, values: Vec<Tensor>, visibility: Visibility) -> Self {
        Self::with_values(graph, values, visibility)
    }

    /// The circuit rows of the tampered cells, sorted (empty outside soundness tests).
    fn tamper_cells(&self) -> Vec<(usize, usize)> {
        #[cfg(feature = "test-support")]
        {
            let public = self.public_rows();
            let mut rows: Vec<(usize, usize)> =
                self.tamper.iter().map(|t| t.cell(public)).collect();
            rows.sort_unstable();
            rows.dedup();
            rows
        }
        #[cfg(not(feature = "test-support"))]
        Vec::new()
    }

    /// The graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Every tensor of the evaluation (inputs, then nodes).
    pub fn values(&self) -> &[Tensor] {
        &self.values
    }

    /// Public instances: all outputs flattened in order, then the inputs if public.
    pub fn instances(&self) -> Vec<Fr> {
        let mut out: Vec<Fr> = self
            .graph
            .outputs_of(&self.values)
            .into_iter()
            .flat_map(|t| t.data.iter().map(|v| to_field(*v)))
            .collect();
        if self.visibility.public_input {
            for t in &self.values[..self.graph.inputs.len()] {
                out.extend(t.data.iter().map(|v| to_field(*v)));
            }
        }
        out
    }

    /// Rows kept for the public instances, one per instance, before the layout.
    pub(crate) fn public_rows(&self) -> usize {
        self.instances().len()
    }

    /// The rows each node's chip occupies, in node order, counted from the first row after
    /// the public rows like a soundness test's `Tamper` rows (for reports and those tests).
    pub fn node_rows(&self) -> Vec<std::ops::Range<usize>> {
        self.node_and_unit_rows().0
    }

    /// [`Self::node_rows`], and the rows of a split circuit's unit column, from one dry run.
    fn node_and_unit_rows(&self) -> (Vec<std::ops::Range<usize>>, usize) {
        let mut cs = ConstraintSystem::<Fr>::default();
        let cfg = ChipConfig::configure(&mut cs, self.shape);
        let mut ctx = Ctx::new(&cfg, None, &self.tables, self.public_rows());
        let mut rows = Vec::with_capacity(self.graph.nodes.len());
        self.layout_with(&mut ctx, &mut |n, start, end| {
            debug_assert_eq!(n, rows.len());
            rows.push(start..end);
        });
        (rows, ctx.unit_rows_used())
    }

    /// Circuit rows each kind of op takes (by [`crate::ops::Op::name`]), summed over the
    /// nodes laid out: where a model's rows go. The inputs' range rows and the public rows
    /// are in no op. These are rows of the advice column `a`; a split circuit's unit column
    /// beside it is the entry [`UNIT_COLUMN`] (so the entries can add up to more than the
    /// circuit's rows, which are the longer column's).
    pub fn circuit_rows_by_op(&self) -> BTreeMap<&'static str, usize> {
        let mut by = BTreeMap::new();
        let (node_rows, unit_rows) = self.node_and_unit_rows();
        for (node, rows) in self.graph.nodes.iter().zip(node_rows) {
            if !rows.is_empty() {
                *by.entry(node.op.name()).or_default() += crate::ops::circuit_rows(rows.len());
            }
        }
        if unit_rows > 0 {
            by.insert(UNIT_COLUMN, unit_rows);
        }
        by
    }

    /// Lays out all nodes; returns (output wires, input wires).
    fn layout(&self, ctx: &mut Ctx) -> (Vec<Wire>, Vec<Wire>) {
        self.layout_with(ctx, &mut |_, _, _| {})
    }

    /// [`Self::layout`], reporting each node's `(index, first row, end row)`.
    fn layout_with(
        &self,
        ctx: &mut Ctx,
        on_node: &mut dyn FnMut(usize, usize, usize),
    ) -> (Vec<Wire>, Vec<Wire>) {
        let n_in = self.graph.inputs.len();
        let mut wires: Vec<Vec<Wire>> = Vec::with_capacity(self.values.len());
        for (decl, t) in self.graph.inputs.iter().zip(&self.values[..n_in]) {
            let wired = match decl.bounded() {
                Some((min, bits)) => t
                    .data
                    .iter()
                    .map(|v| ctx.bounded_input(*v, i128::from(min), bits))
                    .collect(),
                None => signed_inputs(ctx, &t.data),
            };
            wires.push(wired);
        }
        let live = self.graph.live_nodes();
        let checked = self.graph.checked_bits();
        let bounds = self.graph.bounds_given(&checked);
        let fused = fused::plan(&self.graph, &live, &checked);
        let enforced = self.graph.enforced_bounds(&live, &checked, &fused);
        for (n, node) in self.graph.nodes.iter().enumerate() {
            let args: Vec<&[Wire]> = node.inputs.iter().map(|i| wires[*i].as_slice()).collect();
            let start = ctx.row();
            ctx.set_output_bound(OutputBound {
                checked: checked[n],
                enforced: enforced[n_in + n],
                bound: bounds[n_in + n],
            });
            let out = match (live[n], fused[n]) {
                (false, _) | (_, Some(Fusion::Inner)) => Vec::new(),
                (true, Some(Fusion::Outer { node: r })) => {
                    let x = &wires[self.graph.nodes[r].inputs[0]];
                    let (inner, out) = (&self.values[n_in + r], &self.values[n_in + n]);
                    fused::assign(&node.op, &self.graph.nodes[r].op, ctx, x, inner, out)
                }
                (true, None) => node.op.assign(ctx, &args, &self.values[n_in + n]),
            };
            on_node(n, start, ctx.row());
            wires.push(out);
        }
        let outputs = self
            .graph
            .outputs
            .iter()
            .flat_map(|o| wires[*o].clone())
            .collect();
        let inputs = wires[..n_in].iter().flatten().copied().collect();
        (outputs, inputs)
    }

    /// Rows the layout uses (rows of lanes, including the public rows).
    pub fn rows(&self) -> usize {
        self.sized().0
    }

    /// (layout rows, circuit rows).
    fn sized(&self) -> (usize, usize) {
        let mut cs = ConstraintSystem::<Fr>::default();
        let cfg = ChipConfig::configure(&mut cs, self.shape);
        let mut ctx = Ctx::new(&cfg, None, &self.tables, self.public_rows());
        self.layout(&mut ctx);
        (ctx.rows_used(), ctx.circuit_rows_used())
    }

    /// Smallest logrows that fits the rows, the limb table and the blinding rows.
    pub fn min_k(&self) -> Result<u32> {
        Ok(self.size()?.logrows)
    }

    /// Layout rows, circuit rows and logrows, from one dry run of the layout.
    pub fn size(&self) -> Result<Size> {
        let (rows, circuit_rows) = self.sized();
        let mut cs = ConstraintSystem::<Fr>::default();
        ChipConfig::configure(&mut cs, self.shape);
        let reserved = cs.blinding_factors() + 1;
        // The table layouter also writes one row past the table's last entry (its fill with
        // the default entry starts there), so a table needs one usable row more than its
        // entries.
        let needed = circuit_rows
            .max(ChipConfig::table_rows(&self.tables) + 1)
            .max(cs.minimum_rows());
        let logrows = (1..=MAX_K)
            .find(|k| (1usize << k) >= needed + reserved)
            .ok_or(CircuitError::TooLarge {
                rows: needed,
                max_k: MAX_K,
            })?;
        Ok(Size {
            rows,
            circuit_rows,
            logrows,
        })
    }
}

/// Range-checked signed inputs: in rescale units of a split circuit's unit column, five at a
/// time where the circuit puts them there ([`Ctx::inputs_in_units`]), the rest in range rows.
fn signed_inputs(ctx: &mut Ctx, values: &[i128]) -> Vec<Wire> {
    let in_units = if ctx.inputs_in_units() {
        values.len() - values.len() % crate::chip::RESCALE_UNIT_ELEMS
    } else {
        0
    };
    let (units, rows) = values.split_at(in_units);
    let mut wires = Vec::with_capacity(values.len());
    for chunk in units.chunks(crate::chip::RESCALE_UNIT_ELEMS) {
        wires.extend(ctx.input_unit(chunk));
    }
    wires.extend(rows.iter().map(|v| ctx.signed_input(*v)));
    wires
}

impl Circuit<Fr> for ModelCircuit {
    type Config = ChipConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ChipShape;

    fn without_witnesses(&self) -> Self {
        Self::blank(self.graph.clone(), self.visibility).expect("a zero input evaluates")
    }

    fn params(&self) -> ChipShape {
        self.shape
    }

    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, shape: ChipShape) -> ChipConfig {
        ChipConfig::configure(meta, shape)
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> ChipConfig {
        ChipConfig::configure(meta, Layout::Tall)
    }

    fn synthesize(
        &self,
        cfg: ChipConfig,
        mut layouter: impl Layouter<Fr>,
    ) -> std::result::Result<(), Error> {
        cfg.load_table(&mut layouter, &self.tables)?;
        layouter.assign_region(
            || "model",
            |mut region| {
                let public = self.public_rows();
                let watch = self.tamper_cells();
                let mut ctx = Ctx::new(&cfg, Some(&mut region), &self.tables, public).watch(&watch);
                let (outputs, inputs) = self.layout(&mut ctx);
                let public_inputs = if self.visibility.public_input {
                    inputs
                } else {
                    vec![]
                };
                for (i, w) in outputs.iter().chain(&public_inputs).enumerate() {
                    ctx.public(i, w);
                }
                #[cfg(feature = "test-support")]
                {
                    let mut current = ctx.watched().to_vec();
                    drop(ctx);
                    for t in &self.tamper {
                        let (column, at) = t.cell(public);
                        let i = watch.binary_search(&(column, at)).expect("watched");
                        current[i] = t.apply(current[i]);
                        let col = match column {
                            crate::chip::COLUMN_A => cfg.a,
                            _ => {
                                cfg.wide
                                    .as_ref()
                                    .and_then(|w| w.units)
                                    .expect("a split circuit")
                                    .b
                            }
                        };
                        region.assign_advice(
                            col,
                            at,
                            halo2_axiom::circuit::Value::known(current[i]),
                        );
                    }
                }
                Ok(())
            },
        )
    }
}
