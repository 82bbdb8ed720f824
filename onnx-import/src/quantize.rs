//! Lowering of the float graph to the fixed-point graph of `zkinfer-circuits`.
//!
//! Fixed point: every activation is `round(x·2^act_scale)`; weights are
//! `round(w·2^weight_scale)`. A product carries the sum of its operands' scales and is
//! brought back by a constrained [`Rescale`] the first time a consumer needs it at the
//! activation scale, so a bias add folds in before the rescale, exactly once.

use crate::error::{ImportError, Result};
use crate::float::FloatModel;
use crate::ops::registry;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tract_onnx::prelude::*;
use zkinfer_circuits::chip::{ACT_BOUND, RANGE_BITS};
use zkinfer_circuits::ops::{AffineRow, Bilinear, Cand, Gather, Linear, Op, Rescale};
use zkinfer_circuits::{Graph, GraphInput, Node, TensorId};

/// What calibration optimizes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The finest scale each tensor's calibrated range allows (up to 2^16), 14-bit lookup
    /// tables with outputs 2^-10 apart: the default.
    #[default]
    Balanced,
    /// As `Balanced`, with tables up to 16 bits and outputs 2^-12 apart: about 4× less
    /// error from nonlinear functions, for larger circuits.
    Accuracy,
    /// Scales up to 2^12 and tables up to 11 bits with outputs 2^-8 apart: smaller circuits
    /// for models with nonlinear functions, at some accuracy.
    Resources,
}

impl Target {
    /// Finest activation scale this target picks.
    pub fn max_act_scale(self) -> i32 {
        match self {
            Target::Balanced | Target::Accuracy => MAX_ACT_SCALE,
            Target::Resources => 12,
        }
    }

    /// Largest table input range, in bits.
    pub fn table_bits(self) -> u32 {
        match self {
            Target::Balanced => 14,
            Target::Accuracy => 16,
            Target::Resources => 11,
        }
    }

    /// A table is made as coarse as keeps adjacent outputs within this step (so rounding the
    /// input to the table's grid moves the output by at most half of it).
    pub fn output_step(self) -> f64 {
        match self {
            Target::Balanced => 1.0 / 1024.0,
            Target::Accuracy => 1.0 / 4096.0,
            Target::Resources => 1.0 / 256.0,
        }
    }
}

/// How a float model's nonlinear functions (Sigmoid, Tanh, Exp, …) are proven.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nonlinear {
    /// Per function, whichever of the two costs fewer rows (table entries plus rows per
    /// element).
    #[default]
    Auto,
    /// A lookup table over the input's range, behind a rescale to the table's grid.
    Table,
    /// Piecewise-linear interpolation over range-decomposed segments (a table only where
    /// no segment width meets the tolerance within the table bits).
    Interp,
}

/// Fixed-point choices of a compiled model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantSettings {
    /// Coarsest activation scale exponent: every calibrated value fits it (the scale of
    /// tensors without a calibrated range of their own).
    pub act_scale: i32,
    /// Scale exponent of weights; each rescale divides by `2^weight_scale`.
    pub weight_scale: i32,
    /// What the scales were chosen for.
    #[serde(default)]
    pub target: Target,
    /// Scale exponent per tensor (ONNX/tract node name), from that tensor's calibrated range.
    #[serde(default)]
    pub tensor_scales: BTreeMap<String, i32>,
    /// How nonlinear functions are proven.
    #[serde(default)]
    pub nonlinear: Nonlinear,
    /// How far beyond the calibrated range a lookup table or segment set reaches, on each
    /// side, as a fraction of that range (and of its largest magnitude); `None`:
    /// [`range_margin_for`] the number of calibration samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_margin: Option<f64>,
}

/// The range margin of a calibration on `samples` samples and more: 0.5 (half the calibrated
/// range again on each side).
pub const RANGE_MARGIN: f64 = 0.5;

/// The default range margin for `samples` calibration samples: [`RANGE_MARGIN`] from 8
/// samples on, twice it up to 4 (the range of one sample says less of the next: a layer
/// norm's variance over the zoo's transformer inputs varies 1.8-fold), in between inversely
/// to the count.
pub fn range_margin_for(samples: usize) -> f64 {
    RANGE_MARGIN * (8.0 / samples.max(1) as f64).clamp(1.0, 2.0)
}

/// Largest activation scale chosen by calibration.
pub const MAX_ACT_SCALE: i32 = 16;
/// Weight scale: a multiple of the limb width, so a rescale remainder is one range row.
pub const WEIGHT_SCALE: i32 = 16;
/// Headroom kept above the largest calibrated activation.
pub const CALIBRATION_MARGIN: f32 = 2.0;

/// The finest scale at which `max_abs·CALIBRATION_MARGIN` fits the range-checked interval.
fn fitting_scale(max_abs: f32) -> i32 {
    let limit = (ACT_BOUND - 1) as f64 / f64::from((max_abs * CALIBRATION_MARGIN).max(1e-6));
    limit.log2().floor() as i32
}

impl QuantSettings {
    /// [`QuantSettings::calibrate_for`] with [`Target::Balanced`].
    pub fn calibrate(model: &FloatModel, calibration: &[Vec<Vec<f32>>]) -> Result<Self> {
        Self::calibrate_for(model, calibration, Target::Balanced)
    }

    /// Chooses the scales from the calibration samples: per tensor, the finest scale at which
    /// every value seen, times [`CALIBRATION_MARGIN`], fits the range-checked interval
    /// (capped by the target); the coarsest of them is the default activation scale.
    pub fn calibrate_for(
        model: &FloatModel,
        calibration: &[Vec<Vec<f32>>],
        target: Target,
    ) -> Result<Self> {
        let nodes = model.model.nodes().len();
        let mut per_node = vec![None::<f32>; nodes];
        let mut max_abs = 0f32;
        for sample in calibration {
            for (n, vals) in model.run_all(sample)?.into_iter().enumerate() {
                if let Some(vals) = vals {
                    let m = vals.iter().fold(0f32, |m, v| m.max(v.abs()));
                    per_node[n] = Some(per_node[n].map_or(m, |p: f32| p.max(m)));
                    max_abs = max_abs.max(m);
                }
            }
            for vals in sample {
                max_abs = vals.iter().fold(max_abs, |m, v| m.max(v.abs()));
            }
        }
        let cap = target.max_act_scale();
        let act_scale = fitting_scale(max_abs).min(cap);
        if act_scale < 0 {
            return Err(ImportError::BadInput {
                input: "<calibration>".into(),
                reason: format!("values up to {max_abs} exceed the {RANGE_BITS}-bit range"),
            });
        }
        let tensor_scales = per_node
            .iter()
            .enumerate()
            .filter_map(|(n, m)| {
                let s = fitting_scale((*m)?).clamp(act_scale, cap);
                Some((model.model.node(n).name.clone(), s))
            })
            .collect();
        Ok(Self {
            act_scale,
            weight_scale: WEIGHT_SCALE,
            target,
            tensor_scales,
            nonlinear: Nonlinear::Auto,
            range_margin: None,
        })
    }

    /// Quantizes a float to scale `scale`.
    pub fn quantize(x: f32, scale: i32) -> i64 {
        (f64::from(x) * 2f64.powi(scale)).round() as i64
    }
}

/// What a tract outlet became.
#[derive(Clone, Debug)]
pub(crate) enum Mapped {
    /// A tensor of the quantized graph.
    Tensor(TensorId),
    /// A known float constant (weights, shapes).
    Const(Arc<tract_onnx::prelude::Tensor>),
}

/// Walks the typed model and emits quantized nodes.
pub struct Builder<'m> {
    pub(crate) model: &'m TypedModel,
    pub(crate) settings: QuantSettings,
    pub(crate) graph: Graph,
    map: HashMap<OutletId, Mapped>,
    /// Rescaled copies: `(tensor, scale)` → tensor.
    rescaled: HashMap<(TensorId, i32), TensorId>,
    /// The tract nodes each tensor computes (several when a bias or reshape folds into it),
    /// for its calibrated scale.
    origin: HashMap<TensorId, Vec<String>>,
    /// The calibration samples, for ranges of intermediate quantized tensors.
    calibration: Vec<Vec<Vec<f32>>>,
    /// Activation scales chosen by an op for intermediate tensors of known range (a
    /// LayerNorm's squares and variance), over the calibrated or default ones.
    pinned: HashMap<TensorId, i32>,
    /// The softmaxes that left masked elements out, for a check once every node reads what
    /// it reads ([`crate::ops::Masking::holds`]).
    pub(crate) maskings: Vec<crate::ops::Masking>,
}

impl<'m> Builder<'m> {
    /// Lowers the whole model; `calibration` gives the value ranges lookup tables cover.
    pub fn lower(
        model: &'m FloatModel,
        settings: QuantSettings,
        calibration: &[Vec<Vec<f32>>],
    ) -> Result<Graph> {
        let mut b = Builder {
            model: &model.model,
            settings,
            graph: Graph {
                inputs: vec![],
                nodes: vec![],
                outputs: vec![],
                sources: vec![],
                layout: Default::default(),
                units_column: false,
            },
            map: HashMap::new(),
            rescaled: HashMap::new(),
            origin: HashMap::new(),
            calibration: calibration.to_vec(),
            pinned: HashMap::new(),
            maskings: Vec::new(),
        };
        let model = b.model;
        let sources = model.input_outlets().map_err(|e| ImportError::Malformed {
            reason: format!("{e:#}"),
        })?;
        for o in sources {
            b.add_input(model.node(o.node))?;
        }
        let order = b.model.eval_order().map_err(|e| ImportError::Malformed {
            reason: format!("{e:#}"),
        })?;
        for id in order {
            let node = b.model.node(id);
            if b.map.contains_key(&OutletId::new(id, 0)) {
                continue; // a graph input, declared above
            }
            if let Some(k) = node.outputs[0].fact.konst.clone() {
                b.map.insert(OutletId::new(id, 0), Mapped::Const(k));
                continue;
            }
            registry().build(&mut b, node)?;
        }
        let outlets = model.output_outlets().map_err(|e| ImportError::Malformed {
            reason: format!("{e:#}"),
        })?;
        for &o in outlets {
            let name = b.model.node(o.node).name.clone();
            let t = match b.mapped(o)? {
                Mapped::Const(k) => b.constant_output(&name, &k)?,
                Mapped::Tensor(t) => t,
            };
            let t = b.at_act_scale(t, &name);
            b.graph.outputs.push(t);
        }
        // The bounds a mask was judged by assumed the rescales computing the scores check
        // their own outputs; a later reader that bounds one (so that it leaves its check to
        // it) may loosen them.
        for m in &b.maskings {
            m.holds(&b.graph)?;
        }
        // Each node's value, by the latest tensor computing it (a rescaled copy over the raw
        // accumulator): what consumers read.
        let mut latest: HashMap<String, TensorId> = HashMap::new();
        for (t, names) in &b.origin {
            if let Some(n) = names.last().filter(|_| *t >= b.graph.inputs.len()) {
                let e = latest.entry(n.clone()).or_insert(*t);
                *e = (*e).max(*t);
            }
        }
        let mut sources: Vec<(String, TensorId)> = latest.into_iter().collect();
        sources.sort_by_key(|(_, t)| *t);
        b.graph.sources = sources;
        crate::fold_affine::fold_affine(&mut b.graph);
        b.graph.prune_dead();
        crate::align_shift::align_rescale_shifts(&mut b.graph);
        b.graph.compact_dead_elements();
        Ok(b.graph)
    }

    /// Declares a graph input for a `Source` node. All inputs are declared before any node,
    /// so graph inputs keep the tensor ids `0..n`.
    fn add_input(&mut self, node: &TypedNode) -> Result<()> {
        let shape = concrete(node, 0)?;
        self.graph.inputs.push(GraphInput {
            name: node.name.clone(),
            shape,
            scale: self.scale_of(&node.name),
            affine: None,
        });
        let id = self.graph.inputs.len() - 1;
        self.origin.insert(id, vec![node.name.clone()]);
        self.map
            .insert(OutletId::new(node.id, 0), Mapped::Tensor(id));
        Ok(())
    }

    /// The mapped value of an outlet.
    pub(crate) fn mapped(&self, o: OutletId) -> Result<Mapped> {
        self.map
            .get(&o)
            .cloned()
            .ok_or_else(|| ImportError::Malformed {
                reason: format!("outlet {o:?} used before definition"),
            })
    }

    /// The quantized tensor of an outlet; an error naming `node` if it is a constant.
    pub(crate) fn tensor(&self, o: OutletId, node: &str) -> Result<TensorId> {
        match self.mapped(o)? {
            Mapped::Tensor(t) => Ok(t),
            Mapped::Const(_) => Err(ImportError::UnsupportedAttribute {
                node: node.into(),
                op_type: self.model.node(o.node).op.name().to_string(),
                attribute: "operand".into(),
                value: "constant where a computed tensor was expected".into(),
            }),
        }
    }

    /// A graph output that tract folded to a constant (it does not depend on the inputs):
    /// a row-free node of constant cells at the output's scale.
    fn constant_output(&mut self, name: &str, k: &tract_onnx::prelude::Tensor) -> Result<TensorId> {
        let scale = self.scale_of(name);
        let bad = |e: TractError| ImportError::Malformed {
            reason: format!("constant output `{name}`: {e:#}"),
        };
        let cast = k.cast_to::<f32>().map_err(bad)?;
        let values = cast
            .to_plain_array_view::<f32>()
            .map_err(bad)?
            .iter()
            .map(|v| {
                let q = QuantSettings::quantize(*v, scale);
                if i128::from(q).abs() >= ACT_BOUND {
                    return Err(ImportError::UnsupportedAttribute {
                        node: name.into(),
                        op_type: "Const".into(),
                        attribute: "value".into(),
                        value: format!("{v} exceeds the {RANGE_BITS}-bit range at scale 2^{scale}"),
                    });
                }
                Ok(Cand::Const(q))
            })
            .collect::<Result<Vec<_>>>()?;
        let op = Op::Gather(Gather { items: values });
        Ok(self.push(name, op, vec![], k.shape().to_vec(), scale))
    }

    /// Binds a tract node's first output to a quantized tensor.
    pub(crate) fn bind(&mut self, node: &TypedNode, t: TensorId) {
        self.map
            .insert(OutletId::new(node.id, 0), Mapped::Tensor(t));
        self.origin.entry(t).or_default().push(node.name.clone());
    }

    /// The calibrated activation scale of tract node `name` (the default scale if it has no
    /// calibrated range).
    pub(crate) fn scale_of(&self, name: &str) -> i32 {
        self.settings
            .tensor_scales
            .get(name)
            .copied()
            .unwrap_or(self.settings.act_scale)
    }

    /// The activation scale tensor `t` is brought to: the coarsest of the nodes it computes.
    fn target(&self, t: TensorId) -> i32 {
        if let Some(s) = self.pinned.get(&t) {
            return *s;
        }
        self.origin
            .get(&t)
            .and_then(|names| names.iter().map(|n| self.scale_of(n)).min())
            .unwrap_or(self.settings.act_scale)
    }

    /// Sets the activation scale intermediate tensor `t` is brought to ([`Builder::at_act_scale`]).
    pub(crate) fn pin_scale(&mut self, t: TensorId, s: i32) {
        self.pinned.insert(t, s);
    }

    /// The finest scale at which magnitudes up to `max_abs` fit the range-checked interval
    /// with the calibration margin, capped by the target.
    pub(crate) fn scale_for(&self, max_abs: f64) -> i32 {
        fitting_scale(max_abs as f32).min(self.settings.target.max_act_scale())
    }

    /// Appends a node and returns its tensor.
    pub(crate) fn push(
        &mut self,
        name: &str,
        op: Op,
        inputs: Vec<TensorId>,
        shape: Vec<usize>,
        scale: i32,
    ) -> TensorId {
        self.graph.nodes.push(Node {
            name: name.into(),
            op,
            inputs,
            shape,
            scale,
            affine: None,
        });
        self.graph.inputs.len() + self.graph.nodes.len() - 1
    }

    /// The margin lookup tables and segments add to calibrated ranges (the settings', or
    /// [`range_margin_for`] the calibration's sample count).
    pub(crate) fn range_margin(&self) -> f64 {
        self.settings
            .range_margin
            .unwrap_or_else(|| range_margin_for(self.calibration.len()))
    }

    /// The range of quantized tensor `t` over the calibration set, as floats: the graph
    /// built so far is run by the reference evaluator.
    pub(crate) fn observed_range(&self, t: TensorId, node: &str) -> Result<(f64, f64)> {
        let mut range: Option<(i128, i128)> = None;
        for sample in &self.calibration {
            let q: Vec<Vec<i128>> = sample
                .iter()
                .zip(&self.graph.inputs)
                .map(|(v, d)| {
                    v.iter()
                        .map(|x| i128::from(QuantSettings::quantize(*x, d.scale)))
                        .collect()
                })
                .collect();
            let values = self.graph.eval(&q).map_err(|e| ImportError::BadInput {
                input: node.into(),
                reason: format!("calibration sample does not evaluate: {e}"),
            })?;
            for v in &values[t].data {
                range = Some(range.map_or((*v, *v), |(lo, hi)| (lo.min(*v), hi.max(*v))));
            }
        }
        let (lo, hi) = range.ok_or_else(|| ImportError::BadInput {
            input: node.into(),
            reason: "no calibration data reaches this node; give calibration inputs".into(),
        })?;
        let scale = 2f64.powi(self.graph.scale(t));
        Ok((lo as f64 / scale, hi as f64 / scale))
    }

    /// Appends a node for tract node `node` and binds its output to it.
    pub(crate) fn emit(
        &mut self,
        node: &TypedNode,
        op: Op,
        inputs: Vec<TensorId>,
        shape: Vec<usize>,
        scale: i32,
    ) -> Result<()> {
        let t = self.push(&node.name, op, inputs, shape, scale);
        self.bind(node, t);
        Ok(())
    }

    /// `x²` elementwise (the linear gate's product term), at twice `x`'s scale.
    pub(crate) fn square(&mut self, name: &str, x: TensorId) -> TensorId {
        let shape = self.graph.shape(x).to_vec();
        let idx: Vec<u32> = (0..shape.iter().product::<usize>() as u32).collect();
        let scale = 2 * self.graph.scale(x);
        let op = Op::Mul(zkinfer_circuits::ops::Mul {
            lhs: idx.clone(),
            rhs: idx,
        });
        self.push(name, op, vec![x, x], shape, scale)
    }

    /// The mean of the squares of each group of `x`'s elements plus `eps`,
    /// `Σ_{i∈g} x_i²/|g| + eps`, to be brought to `mean_scale` (the finest at which the means
    /// fit: pinned). The squares are summed exactly on the bilinear gate (two per layout row:
    /// three circuit cells each, where a square and its rescale took 24), each sum is
    /// rescaled to the finest scale its calibrated range allows, then weighted by `1/|g|`
    /// with `eps` added. `shape` is the reduced shape (one element per group).
    pub(crate) fn mean_of_squares(
        &mut self,
        name: &str,
        x: TensorId,
        groups: &[Vec<u32>],
        shape: Vec<usize>,
        (eps, mean_scale): (f32, i32),
    ) -> Result<TensorId> {
        let rows = groups
            .iter()
            .map(|g| g.iter().map(|i| (*i, *i)).collect())
            .collect();
        let s = 2 * self.graph.scale(x);
        let op = Op::Bilinear(Bilinear { rows });
        let sums = self.push(&format!("{name}.sum_sq"), op, vec![x, x], shape.clone(), s);
        // The sums at the finest scale their calibrated range (with its margin) allows.
        let (_, hi) = self.observed_range(sums, name)?;
        let reach = hi * (1.0 + self.range_margin());
        let sums = self.at_scale(sums, self.scale_for(reach), name);
        let (ss, ws) = (self.graph.scale(sums), self.settings.weight_scale);
        let rows = groups
            .iter()
            .enumerate()
            .map(|(o, g)| AffineRow {
                bias: QuantSettings::quantize(eps, ss + ws),
                terms: vec![(o as u32, QuantSettings::quantize(1.0 / g.len() as f32, ws))],
            })
            .collect();
        let mean = self.push(
            name,
            Op::Linear(Linear { rows }),
            vec![sums],
            shape,
            ss + ws,
        );
        self.pin_scale(mean, mean_scale);
        Ok(mean)
    }

    /// `t` at its activation scale, rescaling (once per tensor) if it carries more.
    pub(crate) fn at_act_scale(&mut self, t: TensorId, name: &str) -> TensorId {
        let s = self.target(t);
        self.at_scale(t, s, name)
    }

    /// Brings tensors to one common activation scale (the coarsest of theirs), so that they
    /// can be compared, selected or concatenated; returns them and the scale.
    pub(crate) fn at_common_scale(&mut self, ts: &[TensorId], name: &str) -> (Vec<TensorId>, i32) {
        let ts: Vec<TensorId> = ts.iter().map(|t| self.at_act_scale(*t, name)).collect();
        let s = ts
            .iter()
            .map(|t| self.graph.scale(*t))
            .min()
            .unwrap_or(self.settings.act_scale);
        (ts.iter().map(|t| self.at_scale(*t, s, name)).collect(), s)
    }

    /// `t` rescaled (once per tensor and scale) down to scale `s`; a tensor already at or
    /// below `s` is returned as is.
    pub(crate) fn at_scale(&mut self, t: TensorId, s: i32, name: &str) -> TensorId {
        if let Some(r) = self.rescaled.get(&(t, s)) {
            return *r;
        }
        let mut cur = t;
        let mut scale = self.graph.scale(t);
        while scale > s {
            let shift = (scale - s).min(RANGE_BITS as i32);
            let shape = self.graph.shape(cur).to_vec();
            scale -= shift;
            cur = self.push(
                &format!("{name}.rescale"),
                Op::Rescale(Rescale {
                    shift: shift as u32,
                }),
                vec![cur],
                shape,
                scale,
            );
        }
        if cur != t {
            if let Some(o) = self.origin.get(&t).cloned() {
                self.origin.entry(cur).or_default().extend(o);
            }
        }
        self.rescaled.insert((t, s), cur);
        cur
    }
}

/// The concrete shape of a node output.
pub(crate) fn concrete(node: &TypedNode, slot: usize) -> Result<Vec<usize>> {
    let fact = &node.outputs[slot].fact;
    fact.shape
        .as_concrete()
        .map(|s| s.to_vec())
        .ok_or_else(|| ImportError::UnsupportedAttribute {
            node: node.name.clone(),
            op_type: node.op.name().to_string(),
            attribute: "shape".into(),
            value: format!("{:?} (symbolic)", fact.shape),
        })
}
