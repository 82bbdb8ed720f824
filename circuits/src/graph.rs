//! The quantized graph and its reference evaluator, the single oracle every other layer
//! (circuit, importer, CLI self-check) is compared against.

use crate::chip::ACT_BOUND;
use crate::error::{CircuitError, Result};
use crate::ops::{check_range, Op};
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// Index of a tensor: graph inputs first, then one per node in order.
pub type TensorId = usize;

/// A graph input: a private (or public) tensor of fixed-point values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphInput {
    /// Name in the source model.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Fixed-point scale exponent: the real value is `q / 2^scale`.
    pub scale: i32,
}

/// One node: an op applied to earlier tensors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
}

/// A quantized graph: integer ops over fixed-point tensors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Graph {
    /// Inputs, in the source model's order.
    pub inputs: Vec<GraphInput>,
    /// Nodes in topological order.
    pub nodes: Vec<Node>,
    /// Output tensors, in the source model's order.
    pub outputs: Vec<TensorId>,
}

impl Graph {
    /// Shape of a tensor.
    pub fn shape(&self, id: TensorId) -> &[usize] {
        match id.checked_sub(self.inputs.len()) {
            None => &self.inputs[id].shape,
            Some(n) => &self.nodes[n].shape,
        }
    }

    /// Scale exponent of a tensor.
    pub fn scale(&self, id: TensorId) -> i32 {
        match id.checked_sub(self.inputs.len()) {
            None => self.inputs[id].scale,
            Some(n) => self.nodes[n].scale,
        }
    }

    /// Checks that every node only reads earlier tensors and outputs exist.
    pub fn validate(&self) -> Result<()> {
        for (n, node) in self.nodes.iter().enumerate() {
            let limit = self.inputs.len() + n;
            if let Some(bad) = node.inputs.iter().find(|i| **i >= limit) {
                return Err(CircuitError::MalformedGraph {
                    node: node.name.clone(),
                    reason: format!("reads tensor {bad} before it is defined"),
                });
            }
        }
        let total = self.inputs.len() + self.nodes.len();
        if let Some(bad) = self.outputs.iter().find(|o| **o >= total) {
            return Err(CircuitError::MalformedGraph {
                node: "<outputs>".into(),
                reason: format!("output tensor {bad} does not exist"),
            });
        }
        Ok(())
    }

    /// Checks quantized inputs against the graph: count, lengths and the representable range.
    pub fn check_inputs(&self, inputs: &[Vec<i128>]) -> Result<()> {
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
            let t = Tensor::new(decl.shape.clone(), vals.clone());
            check_range(&decl.name, &t, -ACT_BOUND, ACT_BOUND - 1)?;
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
        for node in &self.nodes {
            let args: Vec<&Tensor> = node.inputs.iter().map(|i| &values[*i]).collect();
            let out = node.op.eval(&node.name, &args, &node.shape)?;
            values.push(out);
        }
        Ok(values)
    }

    /// The output tensors of a full evaluation.
    pub fn outputs_of<'v>(&self, values: &'v [Tensor]) -> Vec<&'v Tensor> {
        self.outputs.iter().map(|o| &values[*o]).collect()
    }
}
