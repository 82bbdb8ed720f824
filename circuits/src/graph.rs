//! The quantized graph and its reference evaluator, the single oracle every other layer
//! (circuit, importer, CLI self-check) is compared against.

use crate::chip::{ChipShape, Layout, ACT_BOUND, LIMB_BITS, RANGE_BITS, WIDE_BOUND_BITS};
use crate::error::{CircuitError, Result};
use crate::ops::{check_range, Cand, Op, Rescale};
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// The largest magnitude a value of the graph may reach ([`Graph::bounds`]). BN254's scalar
/// field has `p ≈ 2^253.6` elements, so the integers of `(−p/2, p/2)` are field elements one
/// to one and every gadget's argument holds over them; `2^250` leaves room for the offsets
/// the gadgets add (halves, range shifts).
const FIELD_SAFE: f64 = 1.8092513943330656e75; // 2^250

/// Index of a tensor: graph inputs first, then one per node in order.
pub type TensorId = usize;

/// Affine quantization of a pre-quantized model's tensor (ONNX QuantizeLinear parameters):
/// the real value of `q ∈ [min, max]` is `(q − zero_point)·scale`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Affine {
    /// Scale (float32, as in the model).
    pub scale: f32,
    /// Zero point.
    pub zero_point: i32,
    /// Smallest integer (`-128` for int8, `0` for uint8).
    pub min: i32,
    /// Largest integer (`127` for int8, `255` for uint8).
    pub max: i32,
    /// The model's own tensor is an integer (an int8/uint8 graph input or output): values
    /// are given and reported as integers, never rounded or saturated.
    #[serde(default, skip_serializing_if = "is_false")]
    pub exact: bool,
}

fn is_false(b: &bool) -> bool {
    !b
}

impl Affine {
    /// onnxruntime's QuantizeLinear of one float: `clamp(round_half_even(x / scale) + zp)`.
    pub fn quantize(&self, x: f32) -> i64 {
        let v = (x / self.scale).round_ties_even() + self.zero_point as f32;
        v.clamp(self.min as f32, self.max as f32) as i64
    }

    /// DequantizeLinear: `(q − zero_point)·scale`, in float32 as onnxruntime computes it.
    pub fn dequantize(&self, q: i64) -> f32 {
        (q - i64::from(self.zero_point)) as f32 * self.scale
    }

    /// Bits of the integer range (`max − min + 1 = 2^bits`), if it is a power of two.
    pub fn bits(&self) -> Option<u32> {
        let n = (i64::from(self.max) - i64::from(self.min) + 1) as u64;
        n.is_power_of_two().then(|| n.trailing_zeros())
    }
}

/// A graph input: a private (or public) tensor of fixed-point values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GraphInput {
    /// Name in the source model.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Fixed-point scale exponent: the real value is `q / 2^scale`.
    pub scale: i32,
    /// Affine quantization instead of the fixed point (pre-quantized models); the circuit
    /// then constrains the input to `[min, max]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affine: Option<Affine>,
}

impl GraphInput {
    /// `(min, bits)` where the circuit range-checks this input to `[min, min + 2^bits)`
    /// (`Ctx::bounded_input`), `None` where it checks it as a signed value
    /// (`[-2^23, 2^23)`: `Ctx::signed_input`, or rescale units in a split circuit).
    pub fn bounded(&self) -> Option<(i32, u32)> {
        self.affine.and_then(|a| Some((a.min, a.bits()?)))
    }

    /// The integer range the circuit constrains this input to.
    pub fn range(&self) -> (i128, i128) {
        match self.affine {
            Some(a) => (i128::from(a.min), i128::from(a.max)),
            None => (-ACT_BOUND, ACT_BOUND - 1),
        }
    }
}

/// One node: an op applied to earlier tensors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Name, from the source model where there is one.
    pub name: String,
    /// The op.
    #[serde(flatten)]
    pub op: Op,
    /// Input tensors, all defined earlier.
    pub inputs: Vec<TensorId>,
    /// Output shape.
    pub shape: Vec<usize>,
    /// Fixed-point scale exponent of the output.
    pub scale: i32,
    /// Affine quantization instead of the fixed point (pre-quantized models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affine: Option<Affine>,
}

/// A quantized graph: integer ops over fixed-point tensors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Graph {
    /// Inputs, in the source model's order.
    pub inputs: Vec<GraphInput>,
    /// Nodes in topological order.
    pub nodes: Vec<Node>,
    /// Output tensors, in the source model's order.
    pub outputs: Vec<TensorId>,
    /// For reports: the source model's node whose value each listed tensor computes (the
    /// last node folded into it), in graph order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<(String, TensorId)>,
    /// The circuit layout it compiles to (a compile choice: the tall one for on-chain
    /// verification, the wide one for faster proving).
    #[serde(default, skip_serializing_if = "Layout::is_tall")]
    pub layout: Layout,
    /// Whether the wide layout's rescale and rescale-max units, with the signed inputs' range
    /// checks, sit in an advice column of their own
    /// ([`ChipShape::split`](crate::chip::ChipShape::split)): decided when the graph is
    /// compiled, where it lowers logrows
    /// ([`ModelCircuit::choose_units_column`](crate::ModelCircuit::choose_units_column)),
    /// and kept with the graph, so that key generation, proving and verification read the
    /// same circuit without laying it out. Without either unit (or in the tall layout) it
    /// changes nothing.
    #[serde(default, skip_serializing_if = "is_false")]
    pub units_column: bool,
}

impl Graph {
    /// The node computing tensor `id` (`None` for a graph input).
    pub fn producer(&self, id: TensorId) -> Option<&Node> {
        id.checked_sub(self.inputs.len())
            .and_then(|n| self.nodes.get(n))
    }

    /// The value element `index` of tensor `id` holds whatever the inputs, where the graph
    /// fixes it: a constant of a Gather (a pad, a masked softmax's zeros), moved by Gather or
    /// Reshape and rescaled by Rescale. `None` where it is computed (or the index is out of
    /// bounds).
    pub fn known_value(&self, id: TensorId, index: usize) -> Option<i128> {
        let node = self.producer(id)?;
        match &node.op {
            Op::Gather(g) => match *g.items.get(index)? {
                Cand::Const(v) => Some(i128::from(v)),
                Cand::Elem { input, index } => {
                    self.known_value(*node.inputs.get(input as usize)?, index as usize)
                }
            },
            Op::Reshape(_) => self.known_value(node.inputs[0], index),
            Op::Rescale(r) => self
                .known_value(node.inputs[0], index)
                .map(|v| crate::ops::round_shift(v, r.shift)),
            _ => None,
        }
    }

    /// Which nodes an output depends on: the others are evaluated (for reports) but not laid
    /// out, since nothing proven reads them.
    pub fn live_nodes(&self) -> Vec<bool> {
        let n_in = self.inputs.len();
        let mut live = vec![false; self.nodes.len()];
        for o in &self.outputs {
            if let Some(n) = o.checked_sub(n_in) {
                live[n] = true;
            }
        }
        for n in (0..self.nodes.len()).rev() {
            if live[n] {
                for i in &self.nodes[n].inputs {
                    if let Some(m) = i.checked_sub(n_in) {
                        live[m] = true;
                    }
                }
            }
        }
        live
    }

    /// Removes the nodes no output depends on ([`Graph::live_nodes`]), renumbering the
    /// tensors after them; report entries naming a removed tensor are dropped. A rewrite
    /// that leaves a node unread removes it so that the oracle evaluates exactly the nodes
    /// the circuit proves (a dead node's range checks would refuse inputs the circuit
    /// accepts). Returns how many nodes were removed; a graph that does not validate is left
    /// as it is (its validation names what is wrong).
    pub fn prune_dead(&mut self) -> usize {
        if self.validate().is_err() {
            return 0;
        }
        let n_in = self.inputs.len();
        let live = self.live_nodes();
        let mut id: Vec<Option<TensorId>> = (0..n_in).map(Some).collect();
        let mut kept = Vec::with_capacity(self.nodes.len());
        for (node, live) in std::mem::take(&mut self.nodes).into_iter().zip(&live) {
            id.push(live.then_some(n_in + kept.len()));
            if *live {
                kept.push(node);
            }
        }
        let removed = id.len() - n_in - kept.len();
        // Validated: every tensor read is earlier, and a live node's inputs are live.
        let renumber = |t: &mut TensorId| *t = id[*t].unwrap_or(*t);
        for node in &mut kept {
            node.inputs.iter_mut().for_each(renumber);
        }
        self.outputs.iter_mut().for_each(renumber);
        self.sources
            .retain(|(_, t)| id.get(*t).copied().flatten().is_some());
        self.sources.iter_mut().for_each(|(_, t)| renumber(t));
        self.nodes = kept;
        removed
    }

    /// For each node, the tightest bound that later nodes put on every element of its
    /// output, whatever the prover assigns: `Some(bits)` when a live node reads the tensor as
    /// its first input and its rows constrain each element below `2^bits` in magnitude
    /// ([`Op::bounds_input`]: a range check, a lookup, a max against a constant, and, through
    /// the cells they share, a Reshape so bounded). A rescale so bounded skips its own range
    /// check (`Ctx::rescale`); the wide layout packs the dot products of nodes bounded below
    /// `2^WIDE_BOUND_BITS` without checks of their own (`Ctx::shared_dot_checks`).
    pub fn checked_bits(&self) -> Vec<Option<u32>> {
        let n_in = self.inputs.len();
        let live = self.live_nodes();
        let elements = |id: TensorId| self.shape(id).iter().product::<usize>();
        let mut checked: Vec<Option<u32>> = vec![None; self.nodes.len()];
        // Consumers come after their inputs: a node's own bound is final when it is read.
        for (m, node) in self.nodes.iter().enumerate().rev() {
            let Some(&first) = node.inputs.first() else {
                continue;
            };
            let Some(n) = first.checked_sub(n_in) else {
                continue;
            };
            let out = elements(n_in + m);
            let bits = node.op.bounds_input(elements(first), out, checked[m]);
            if let (true, Some(b)) = (live[m], bits) {
                checked[n] = Some(checked[n].map_or(b, |c| c.min(b)));
            }
        }
        checked
    }

    /// Which nodes' outputs later nodes bound below `2^WIDE_BOUND_BITS`
    /// ([`Graph::checked_bits`]): the wide layout packs their dot products without checks of
    /// their own.
    pub fn checked_later(&self) -> Vec<bool> {
        self.checked_bits()
            .into_iter()
            .map(|b| b.is_some_and(|b| b <= WIDE_BOUND_BITS))
            .collect()
    }

    /// The constraint system of this graph's circuit: its layout and, in the wide layout,
    /// the optional units its layout uses (a requantization uses the requant unit; a max or
    /// ReLU that lays out the rescale it reads, the rescale-max unit: `ops::fused::plan`; a
    /// rescale by `2^16` that checks its output, the rescale unit, where
    /// [`RESCALE_UNIT_MIN_ELEMS`](crate::chip::RESCALE_UNIT_MIN_ELEMS) elements or more go in
    /// units).
    pub fn chip_shape(&self) -> ChipShape {
        let mut shape = ChipShape::from(self.layout);
        if self.layout != Layout::Wide {
            return shape;
        }
        let live = self.live_nodes();
        let checked = self.checked_bits();
        let plan = crate::ops::fused::plan(self, &live, &checked);
        let mut in_rescale_units = 0;
        for (n, node) in self.nodes.iter().enumerate().filter(|(n, _)| live[*n]) {
            match (&node.op, plan[n]) {
                (Op::Requant(_), _) => shape.requant = true,
                (Op::Rescale(r), None) if r.fits_unit() && !Rescale::trusts_later(checked[n]) => {
                    let elements: usize = node.shape.iter().product();
                    in_rescale_units += elements - elements % crate::chip::RESCALE_UNIT_ELEMS;
                }
                (Op::Max(_) | Op::Relu(_), Some(crate::ops::fused::Fusion::Outer { .. })) => {
                    shape.rescale_max = true
                }
                _ => {}
            }
        }
        if self.units_column {
            // In a column of their own, the signed inputs' range checks go in rescale units too
            // (`Ctx::input_unit`).
            in_rescale_units += self
                .inputs
                .iter()
                .filter(|i| i.bounded().is_none())
                .map(|i| {
                    let elements: usize = i.shape.iter().product();
                    elements - elements % crate::chip::RESCALE_UNIT_ELEMS
                })
                .sum::<usize>();
        }
        shape.rescale = in_rescale_units >= crate::chip::RESCALE_UNIT_MIN_ELEMS;
        shape.split = self.units_column && (shape.rescale || shape.rescale_max);
        shape
    }

    /// Multiply-accumulates of the nodes laid out ([`Op::macs`]).
    pub fn macs(&self) -> usize {
        self.nodes
            .iter()
            .zip(self.live_nodes())
            .filter(|(_, live)| *live)
            .map(|(n, _)| n.op.macs())
            .sum()
    }

    /// Shape of a tensor.
    pub fn shape(&self, id: TensorId) -> &[usize] {
        match id.checked_sub(self.inputs.len()) {
            None => &self.inputs[id].shape,
            Some(n) => &self.nodes[n].shape,
        }
    }

    /// Affine quantization of a tensor, if it has one.
    pub fn affine(&self, id: TensorId) -> Option<Affine> {
        match id.checked_sub(self.inputs.len()) {
            None => self.inputs[id].affine,
            Some(n) => self.nodes[n].affine,
        }
    }

    /// Scale exponent of a tensor.
    pub fn scale(&self, id: TensorId) -> i32 {
        match id.checked_sub(self.inputs.len()) {
            None => self.inputs[id].scale,
            Some(n) => self.nodes[n].scale,
        }
    }

    /// Checks that every node only reads earlier tensors, as many as its op reads
    /// ([`Op::input_count`]), and only elements that exist, defining one value per element
    /// of its shape (`Graph::check_indices`), that its op's parameters are valid ([`Op::check`]), that every Where condition is proven boolean, and that outputs
    /// exist.
    pub fn validate(&self) -> Result<()> {
        for (n, node) in self.nodes.iter().enumerate() {
            let limit = self.inputs.len() + n;
            if let Some(bad) = node.inputs.iter().find(|i| **i >= limit) {
                return Err(CircuitError::MalformedGraph {
                    node: node.name.clone(),
                    reason: format!("reads tensor {bad} before it is defined"),
                });
            }
            let count = node.op.input_count();
            let where_without_condition = matches!(node.op, Op::Where(_)) && node.inputs.is_empty();
            if count.is_some_and(|c| c != node.inputs.len()) || where_without_condition {
                return Err(CircuitError::MalformedGraph {
                    node: node.name.clone(),
                    reason: format!(
                        "{} reads {} inputs, not {}",
                        node.op.name(),
                        node.inputs.len(),
                        count.map_or("a condition and its operands".into(), |c| c.to_string())
                    ),
                });
            }
            node.op.check(&node.name)?;
            if matches!(node.op, Op::Where(_)) && !self.is_boolean(node.inputs[0]) {
                return Err(CircuitError::MalformedGraph {
                    node: node.name.clone(),
                    reason: "a Where condition must come from a comparison (the circuit \
                             proves its values are 0 or 1; another tensor's are not)"
                        .into(),
                });
            }
        }
        self.check_indices()?;
        for input in &self.inputs {
            if let Some(a) = input.affine {
                match a.bits() {
                    Some(b) if b % LIMB_BITS == 0 && b < RANGE_BITS => {}
                    _ => {
                        return Err(CircuitError::MalformedGraph {
                            node: input.name.clone(),
                            reason: format!(
                                "input range [{}, {}] is not 8 or 16 bits wide",
                                a.min, a.max
                            ),
                        })
                    }
                }
            }
        }
        let total = self.inputs.len() + self.nodes.len();
        if let Some(bad) = self.outputs.iter().find(|o| **o >= total) {
            return Err(CircuitError::MalformedGraph {
                node: "<outputs>".into(),
                reason: format!("output tensor {bad} does not exist"),
            });
        }
        let bounds = self.bounds();
        for (node, bound) in self.nodes.iter().zip(&bounds[self.inputs.len()..]) {
            if *bound >= FIELD_SAFE {
                return Err(CircuitError::MalformedGraph {
                    node: node.name.clone(),
                    reason: format!(
                        "its values may reach 2^{:.0} in magnitude, where the circuit's field \
                         (2^253) no longer represents integers one to one: rescale before it",
                        bound.log2()
                    ),
                });
            }
        }
        Ok(())
    }

    /// A bound on the magnitude of every value of each tensor (inputs, then nodes), whatever
    /// the input within its range: an input is range-checked (`[-2^23, 2^23)`, or its integer
    /// range), and each op bounds its outputs by its inputs' ([`Op::bound`]).
    pub fn bounds(&self) -> Vec<f64> {
        self.bounds_given(&self.checked_bits())
    }

    /// [`Graph::bounds`] with the graph's [`Graph::checked_bits`] already computed.
    pub(crate) fn bounds_given(&self, checked: &[Option<u32>]) -> Vec<f64> {
        let mut bounds: Vec<f64> = self
            .inputs
            .iter()
            .map(|i| match i.affine {
                Some(a) => f64::from(a.min.unsigned_abs().max(a.max.unsigned_abs())),
                None => ACT_BOUND as f64,
            })
            .collect();
        for (node, later) in self.nodes.iter().zip(checked) {
            let inputs: Vec<f64> = node.inputs.iter().map(|i| bounds[*i]).collect();
            bounds.push(node.op.bound(&inputs, *later));
        }
        bounds
    }

    /// Whether the circuit proves every value of tensor `id` is 0 or 1: a comparison's output
    /// (`Ctx::is_positive` and products of such), moved by Reshape or Gather (with constants 0
    /// and 1), or selected between such tensors by Where.
    fn is_boolean(&self, id: TensorId) -> bool {
        let Some(node) = id.checked_sub(self.inputs.len()).map(|n| &self.nodes[n]) else {
            return false;
        };
        let cand = |c: &crate::ops::Cand| match *c {
            crate::ops::Cand::Const(v) => v == 0 || v == 1,
            crate::ops::Cand::Elem { input, .. } => node
                .inputs
                .get(input as usize)
                .is_some_and(|t| self.is_boolean(*t)),
        };
        match &node.op {
            Op::Compare(_) => true,
            Op::Reshape(_) => self.is_boolean(node.inputs[0]),
            Op::Gather(g) => g.items.iter().all(cand),
            Op::Where(w) => w.then.iter().chain(&w.otherwise).all(cand),
            _ => false,
        }
    }

    /// Checks quantized inputs against the graph: count, lengths and the representable range.
    pub fn check_inputs(&self, inputs: &[Vec<i128>]) -> Result<()> {
        self.check_lengths(inputs)?;
        for (decl, vals) in self.inputs.iter().zip(inputs) {
            let t = Tensor::new(decl.shape.clone(), vals.clone());
            let (min, max) = decl.range();
            let scale = decl.affine.is_none().then_some(decl.scale);
            check_range(&decl.name, &t, min, max).map_err(|e| e.at_scale(scale))?;
        }
        Ok(())
    }

    /// Checks the number of input vectors and each one's length against the inputs'
    /// shapes.
    pub(crate) fn check_lengths<T>(&self, inputs: &[Vec<T>]) -> Result<()> {
        if inputs.len() != self.inputs.len() {
            return Err(CircuitError::InputCount {
                expected: self.inputs.len(),
                got: inputs.len(),
            });
        }
        for (decl, vals) in self.inputs.iter().zip(inputs) {
            let expected = decl.shape.iter().product();
            if vals.len() != expected {
                return Err(CircuitError::InputLength {
                    input: decl.name.clone(),
                    expected,
                    got: vals.len(),
                    shape: decl.shape.clone(),
                });
            }
        }
        Ok(())
    }

    /// Runs the integer reference semantics; returns every tensor (inputs, then nodes).
    pub fn eval(&self, inputs: &[Vec<i128>]) -> Result<Vec<Tensor>> {
        self.validate()?;
        self.check_inputs(inputs)?;
        let mut values: Vec<Tensor> = self
            .inputs
            .iter()
            .zip(inputs)
            .map(|(d, v)| Tensor::new(d.shape.clone(), v.clone()))
            .collect();
        let checked = self.checked_bits();
        for (k, node) in self.nodes.iter().enumerate() {
            let args: Vec<&Tensor> = node.inputs.iter().map(|i| &values[*i]).collect();
            let out = node
                .op
                .eval(&node.name, &args, &node.shape, checked[k])
                .map_err(|e| self.with_scale(e, self.inputs.len() + k))?;
            values.push(out);
        }
        Ok(values)
    }

    /// An out-of-range error of `node` with the scale of the value it names: the input's for
    /// ops that range-check their input (a table, segments, a max or sign decomposition), the
    /// output's for the others; none for integers of pre-quantized models.
    fn with_scale(&self, e: CircuitError, id: TensorId) -> CircuitError {
        let node = &self.nodes[id - self.inputs.len()];
        let checks_input = matches!(
            node.op,
            Op::Lookup(_) | Op::Interp(_) | Op::Max(_) | Op::Relu(_) | Op::Compare(_)
        );
        let value_of = match node.inputs.first() {
            Some(i) if checks_input => Some(*i),
            _ if checks_input || matches!(node.op, Op::Requant(_)) => None,
            _ => Some(id),
        };
        let scale = value_of
            .filter(|i| self.affine(*i).is_none())
            .map(|i| self.scale(i));
        e.at_scale(scale)
    }

    /// The output tensors of a full evaluation.
    pub fn outputs_of<'v>(&self, values: &'v [Tensor]) -> Vec<&'v Tensor> {
        self.outputs.iter().map(|o| &values[*o]).collect()
    }
}
