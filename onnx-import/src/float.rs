//! The float model: ONNX parsed and typed by tract, decluttered (never optimized), and run for
//! reference outputs and calibration.

use crate::error::{ImportError, Result};
use crate::ops::supported_onnx_ops;
use crate::proto::Dims;
use tract_onnx::pb::TensorProto;
use tract_onnx::prelude::*;

/// A typed, decluttered float model.
#[derive(Debug, Clone)]
pub struct FloatModel {
    /// tract's typed graph.
    pub model: TypedModel,
}

fn malformed(e: impl std::fmt::Display) -> ImportError {
    ImportError::Malformed {
        reason: format!("{e:#}"),
    }
}

impl FloatModel {
    /// Parses ONNX bytes, rejecting op types outside [`supported_onnx_ops`] by node name.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_bytes_folding(bytes, vec![])
    }

    /// Parses ONNX bytes and turns the named graph inputs into constants (initializers):
    /// shape, axes, pads or indices that arrive as graph inputs are folded this way. Each
    /// tensor's `name` must be a graph input's name.
    pub fn from_bytes_folding(bytes: &[u8], constants: Vec<TensorProto>) -> Result<Self> {
        Self::load(bytes, constants, &Dims::new())
    }

    /// Parses ONNX bytes with its symbolic dimensions (a batch `N`, …) given values; a
    /// symbolic input dimension left without one is an error naming it.
    pub fn from_bytes_pinned(bytes: &[u8], dims: &Dims) -> Result<Self> {
        Self::load(bytes, vec![], dims)
    }

    fn load(bytes: &[u8], constants: Vec<TensorProto>, dims: &Dims) -> Result<Self> {
        let mut proto = crate::proto::parse(bytes)?;
        let graph = proto.graph.as_mut().ok_or_else(|| ImportError::Malformed {
            reason: "model has no graph".into(),
        })?;
        for c in constants {
            let pos = graph
                .input
                .iter()
                .position(|i| i.name == c.name)
                .ok_or_else(|| ImportError::BadInput {
                    input: c.name.clone(),
                    reason: "no graph input of that name to fold".into(),
                })?;
            graph.input.remove(pos);
            graph.initializer.retain(|i| i.name != c.name);
            graph.initializer.push(c);
        }
        crate::proto::prepare(&mut proto, dims)?;
        Self::from_prepared(&proto)
    }

    /// Types a parsed model (`proto::prepare`d) with tract, refusing op types outside the
    /// registry by node name.
    pub(crate) fn from_prepared(proto: &tract_onnx::pb::ModelProto) -> Result<Self> {
        let onnx = tract_onnx::onnx();
        let graph = proto.graph.as_ref().ok_or_else(|| ImportError::Malformed {
            reason: "model has no graph".into(),
        })?;
        if let Some(node) = graph.node.iter().find(|n| {
            supported_onnx_ops()
                .binary_search(&n.op_type.as_str())
                .is_err()
        }) {
            let name = if node.name.is_empty() {
                format!(
                    "#{} (output `{}`)",
                    graph
                        .node
                        .iter()
                        .position(|n| std::ptr::eq(n, node))
                        .unwrap_or(0),
                    node.output.join(",")
                )
            } else {
                node.name.clone()
            };
            return Err(ImportError::UnsupportedOp {
                node: name,
                op_type: node.op_type.clone(),
            });
        }
        let model = onnx
            .model_for_proto_model(proto)
            .and_then(|m| m.into_typed())
            .and_then(|m| m.into_decluttered())
            .map_err(malformed)?;
        Ok(Self { model })
    }

    /// Reads and parses an ONNX file.
    pub fn from_path(path: &std::path::Path) -> Result<Self> {
        Self::from_bytes(&crate::error::read_file(path)?)
    }

    /// Names and shapes of the model inputs.
    pub fn inputs(&self) -> Result<Vec<(String, Vec<usize>)>> {
        self.model
            .input_outlets()
            .map_err(malformed)?
            .iter()
            .map(|o| {
                let node = self.model.node(o.node);
                let fact = &node.outputs[o.slot].fact;
                let shape = fact
                    .shape
                    .as_concrete()
                    .ok_or_else(|| ImportError::BadInput {
                        input: node.name.clone(),
                        reason: format!(
                            "symbolic shape {:?}; only fixed shapes are supported",
                            fact.shape
                        ),
                    })?;
                Ok((node.name.clone(), shape.to_vec()))
            })
            .collect()
    }

    fn tensors(&self, inputs: &[Vec<f32>]) -> Result<TVec<TValue>> {
        let decl = self.inputs()?;
        if decl.len() != inputs.len() {
            return Err(ImportError::BadInput {
                input: "<all>".into(),
                reason: format!("model has {} inputs, {} given", decl.len(), inputs.len()),
            });
        }
        decl.iter()
            .zip(inputs)
            .map(|((name, shape), data)| {
                check_values(name, shape, data)?;
                let t = tract_ndarray::ArrayD::from_shape_vec(shape.clone(), data.clone())
                    .map_err(malformed)?;
                Ok(Tensor::from(t).into_tvalue())
            })
            .collect()
    }

    /// Float inference of the model outputs, flattened.
    pub fn run(&self, inputs: &[Vec<f32>]) -> Result<Vec<Vec<f32>>> {
        let plan = self.model.clone().into_runnable().map_err(inference)?;
        let out = plan.run(self.tensors(inputs)?).map_err(inference)?;
        out.iter().map(flatten).collect()
    }

    /// Node names, indexed like [`FloatModel::run_all`]'s values.
    pub fn node_names(&self) -> Vec<String> {
        self.model.nodes().iter().map(|n| n.name.clone()).collect()
    }

    /// Float values of every node output (first slot), for calibration; `None` for
    /// non-float outlets.
    pub fn run_all(&self, inputs: &[Vec<f32>]) -> Result<Vec<Option<Vec<f32>>>> {
        Ok(self.run_traced(inputs)?.1)
    }

    /// One inference giving both the model outputs (as [`FloatModel::run`]) and every node's
    /// value (as [`FloatModel::run_all`]).
    pub fn run_traced(&self, inputs: &[Vec<f32>]) -> Result<Trace> {
        let mut model = self.model.clone();
        let outputs = model.output_outlets().map_err(inference)?.to_vec();
        let nodes = (0..model.nodes().len()).map(|n| OutletId::new(n, 0));
        let outlets: Vec<OutletId> = outputs.iter().copied().chain(nodes).collect();
        model.select_output_outlets(&outlets).map_err(inference)?;
        let plan = model.into_runnable().map_err(inference)?;
        let out = plan.run(self.tensors(inputs)?).map_err(inference)?;
        let (outs, all) = out.split_at(outputs.len());
        let outs = outs.iter().map(flatten).collect::<Result<_>>()?;
        Ok((outs, all.iter().map(|t| flatten(t).ok()).collect()))
    }
}

/// What [`FloatModel::run_traced`] gives: the model outputs, and each node's first output
/// (`None` where it is not a float tensor).
pub type Trace = (Vec<Vec<f32>>, Vec<Option<Vec<f32>>>);

fn inference(e: impl std::fmt::Display) -> ImportError {
    ImportError::Inference {
        reason: format!("{e:#}"),
    }
}

fn flatten(t: &TValue) -> Result<Vec<f32>> {
    let t = t.cast_to::<f32>().map_err(inference)?;
    let view = t.to_plain_array_view::<f32>().map_err(inference)?;
    Ok(view.iter().copied().collect())
}

/// Checks an input tensor's length and finiteness against its declared shape.
pub fn check_values(name: &str, shape: &[usize], data: &[f32]) -> Result<()> {
    let expected: usize = shape.iter().product();
    if data.len() != expected {
        return Err(ImportError::BadInput {
            input: name.into(),
            reason: format!(
                "expected {expected} values for shape {shape:?}, got {}",
                data.len()
            ),
        });
    }
    if let Some(i) = data.iter().position(|v| !v.is_finite()) {
        return Err(ImportError::BadInput {
            input: name.into(),
            reason: format!("value at index {i} is not finite ({})", data[i]),
        });
    }
    Ok(())
}
