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
use std::collections::HashMap;
use std::sync::Arc;
use tract_onnx::prelude::*;
use zkinfer_circuits::chip::{ACT_BOUND, RANGE_BITS};
use zkinfer_circuits::ops::{Op, Rescale};
use zkinfer_circuits::{Graph, GraphInput, Node, TensorId};

/// Fixed-point choices of a compiled model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantSettings {
    /// Scale exponent of activations (inputs, outputs, and every rescaled tensor).
    pub act_scale: i32,
    /// Scale exponent of weights; each rescale divides by `2^weight_scale`.
    pub weight_scale: i32,
}

/// Largest activation scale chosen by calibration.
pub const MAX_ACT_SCALE: i32 = 16;
/// Weight scale: a multiple of the limb width, so a rescale remainder is one range row.
pub const WEIGHT_SCALE: i32 = 16;
/// Headroom kept above the largest calibrated activation.
pub const CALIBRATION_MARGIN: f32 = 2.0;

impl QuantSettings {
    /// Picks the largest activation scale at which every float value seen in calibration,
    /// times [`CALIBRATION_MARGIN`], still fits the range-checked interval.
    pub fn calibrate(model: &FloatModel, calibration: &[Vec<Vec<f32>>]) -> Result<Self> {
        let mut max_abs = 0f32;
        for sample in calibration {
            for vals in model.run_all(sample)?.into_iter().flatten() {
                max_abs = vals.iter().fold(max_abs, |m, v| m.max(v.abs()));
            }
            for vals in sample {
                max_abs = vals.iter().fold(max_abs, |m, v| m.max(v.abs()));
            }
        }
        let limit = (ACT_BOUND - 1) as f64 / f64::from((max_abs * CALIBRATION_MARGIN).max(1e-6));
        let act_scale = (limit.log2().floor() as i32).min(MAX_ACT_SCALE);
        if act_scale < 0 {
            return Err(ImportError::BadInput {
                input: "<calibration>".into(),
                reason: format!("values up to {max_abs} exceed the {RANGE_BITS}-bit range"),
            });
        }
        Ok(Self {
            act_scale,
            weight_scale: WEIGHT_SCALE,
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
    rescaled: HashMap<TensorId, TensorId>,
    /// The calibration samples, for ranges of intermediate quantized tensors.
    calibration: Vec<Vec<Vec<f32>>>,
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
            },
            map: HashMap::new(),
            rescaled: HashMap::new(),
            calibration: calibration.to_vec(),
        };
        let reg = registry();
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
            let name = node.op.name();
            let build = reg
                .get(name.as_ref())
                .ok_or_else(|| ImportError::UnsupportedOp {
                    node: node.name.clone(),
                    op_type: name.to_string(),
                })?;
            build(&mut b, node)?;
        }
        let outlets = model.output_outlets().map_err(|e| ImportError::Malformed {
            reason: format!("{e:#}"),
        })?;
        for &o in outlets {
            let name = b.model.node(o.node).name.clone();
            let t = b.tensor(o, &name)?;
            let t = b.at_act_scale(t, &name);
            b.graph.outputs.push(t);
        }
        Ok(b.graph)
    }

    /// Declares a graph input for a `Source` node. All inputs are declared before any node,
    /// so graph inputs keep the tensor ids `0..n`.
    fn add_input(&mut self, node: &TypedNode) -> Result<()> {
        let shape = concrete(node, 0)?;
        self.graph.inputs.push(GraphInput {
            name: node.name.clone(),
            shape,
            scale: self.settings.act_scale,
            affine: None,
        });
        let id = self.graph.inputs.len() - 1;
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

    /// Binds a tract node's first output to a quantized tensor.
    pub(crate) fn bind(&mut self, node: &TypedNode, t: TensorId) {
        self.map
            .insert(OutletId::new(node.id, 0), Mapped::Tensor(t));
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

    /// `x²` elementwise (mul gate), at twice `x`'s scale.
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

    /// `t` at the activation scale, rescaling (once per tensor) if it carries more.
    pub(crate) fn at_act_scale(&mut self, t: TensorId, name: &str) -> TensorId {
        if let Some(r) = self.rescaled.get(&t) {
            return *r;
        }
        let mut cur = t;
        let mut scale = self.graph.scale(t);
        while scale > self.settings.act_scale {
            let shift = (scale - self.settings.act_scale).min(RANGE_BITS as i32);
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
        self.rescaled.insert(t, cur);
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
