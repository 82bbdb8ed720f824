//! Pre-quantized ONNX models: the QDQ format (QuantizeLinear/DequantizeLinear around float
//! ops) and the QOperator format (QLinearConv, QGemm, MatMulInteger, …), lowered to the
//! integer graph with onnxruntime's exact integer semantics.
//!
//! The importer walks the ONNX nodes (not tract's graph: tract has no `com.microsoft` ops and
//! its own requantization) and tracks what each tensor is:
//!
//! * an integer tensor of the circuit graph (`Int`), with its quantization when known;
//! * a `DequantizeLinear` of one (`Deq`), or of a constant (`DeqConst`);
//! * a float op over dequantized operands (`Acc`: an int32 accumulator with its real scale;
//!   `Unary`: a function of an int8 tensor) that becomes exact integer arithmetic when its
//!   `QuantizeLinear` arrives — exactly the groups onnxruntime fuses into QLinearConv, QGemm,
//!   QLinearSigmoid, ….
//!
//! Requantization is [`Requant`] (`MlasRequantizeOutput`'s float32 arithmetic, proven by
//! thresholds); functions of one int8 tensor are 256-entry lookup tables built the way
//! onnxruntime builds QLinearSigmoid's; max pooling, reshapes and concatenation move integers
//! unchanged (a concatenated input quantized otherwise than the output is requantized first,
//! as QLinearConcat does).

mod binary;
mod concat;
mod linear;
mod pointwise;
mod pool_first;

use crate::error::{ImportError, Result};
use std::collections::HashMap;
use std::sync::LazyLock;
use tract_onnx::pb::{AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto};
use zkinfer_circuits::ops::Op;
use zkinfer_circuits::{Affine, Graph, GraphInput, Node, TensorId};

/// How one ONNX op of a pre-quantized model is lowered.
type Lower = fn(&mut Importer, &NodeProto) -> Result<()>;

/// The `com.microsoft` domain (onnxruntime's contrib ops).
const MS: &str = "com.microsoft";

/// Every ONNX op the pre-quantized importer lowers: `(domain, op type, whether it marks a
/// model as pre-quantized, lowering)`, the default domain written `""` (`ai.onnx` is read as
/// it). The one list: [`quantized_onnx_ops`], the dispatch and `docs/ops.md` read it.
#[rustfmt::skip]
pub(crate) const OPS: &[(&str, &str, bool, Lower)] = &[
    ("", "QuantizeLinear", true, Importer::quantize_linear),
    ("", "DequantizeLinear", true, Importer::dequantize_linear),
    ("", "Gemm", false, Importer::matmul),
    ("", "MatMul", false, Importer::matmul),
    ("", "QLinearMatMul", true, Importer::matmul),
    ("", "MatMulInteger", true, Importer::matmul),
    (MS, "QGemm", true, Importer::matmul),
    ("", "Conv", false, Importer::conv),
    ("", "QLinearConv", true, Importer::conv),
    ("", "ConvInteger", true, Importer::conv),
    ("", "MaxPool", false, Importer::max_pool),
    ("", "GlobalAveragePool", false, Importer::global_average_pool),
    (MS, "QLinearGlobalAveragePool", true, Importer::global_average_pool),
    (MS, "QLinearAdd", true, Importer::qlinear_binary),
    (MS, "QLinearMul", true, Importer::qlinear_binary),
    ("", "Add", false, Importer::float_binary),
    ("", "Mul", false, Importer::float_binary),
    ("", "Concat", false, Importer::concat),
    (MS, "QLinearConcat", true, Importer::concat),
    ("", "Flatten", false, Importer::reshape),
    ("", "Reshape", false, Importer::reshape),
    ("", "Squeeze", false, Importer::reshape),
    ("", "Unsqueeze", false, Importer::reshape),
    ("", "Sigmoid", false, Importer::unary),
    ("", "Relu", false, Importer::unary),
    ("", "LeakyRelu", false, Importer::unary),
    (MS, "QLinearSigmoid", true, Importer::unary),
    (MS, "QLinearLeakyRelu", true, Importer::unary),
    ("", "Constant", false, Importer::constant_node),
];

/// ONNX op types that mark a model as pre-quantized (any domain), from [`OPS`].
pub fn quantized_onnx_ops() -> &'static [&'static str] {
    static MARKERS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        OPS.iter()
            .filter(|(_, _, marks, _)| *marks)
            .map(|(_, op, ..)| *op)
            .collect()
    });
    &MARKERS
}

/// How a pre-quantized model is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuantFormat {
    /// QuantizeLinear/DequantizeLinear around float ops.
    Qdq,
    /// Quantized operators (QLinear*, *Integer, com.microsoft Q*).
    QOperator,
}

/// A pre-quantized model lowered to the integer graph.
#[derive(Clone, Debug)]
pub struct QuantModel {
    /// The integer graph; inputs and outputs carry their [`Affine`] quantization.
    pub graph: Graph,
    /// The model's format.
    pub format: QuantFormat,
}

/// What an ONNX tensor is during the walk.
#[derive(Clone, Debug)]
pub(crate) enum Val {
    /// An integer tensor of the graph; `q` is its quantization when known.
    Int { id: TensorId, q: Option<Affine> },
    /// A constant (initializer or Constant node), exact as f64.
    Const {
        shape: Vec<usize>,
        data: Vec<f64>,
        int: bool,
    },
    /// A float model input before its QuantizeLinear (input `index`).
    FloatIn(usize),
    /// `DequantizeLinear` of an integer tensor.
    Deq { id: TensorId, q: Affine },
    /// `DequantizeLinear` of a constant, per tensor or per channel of `axis`.
    DeqConst {
        shape: Vec<usize>,
        q: Vec<i64>,
        scales: Vec<f32>,
        zero_points: Vec<i64>,
        axis: usize,
    },
    /// An int32 accumulator whose real value is `acc·scales[c] / count` (channel `c` of runs
    /// of `inner` elements; `count` > 1 for an average), awaiting its QuantizeLinear.
    Acc {
        id: TensorId,
        scales: Vec<f32>,
        inner: u32,
        count: u32,
    },
    /// Add or Mul of two dequantized tensors, awaiting its QuantizeLinear.
    Binary {
        op: binary::Binary,
        a: TensorId,
        qa: Affine,
        b: TensorId,
        qb: Affine,
    },
    /// Concat of dequantized tensors of different quantizations, awaiting the QuantizeLinear
    /// that requantizes each part to one.
    DeqConcat {
        parts: Vec<(TensorId, Affine)>,
        axis: usize,
    },
    /// A float function of a dequantized integer tensor, awaiting its QuantizeLinear.
    Unary {
        id: TensorId,
        q: Affine,
        f: pointwise::Function,
    },
}

/// Is this ONNX model pre-quantized (does it use any of [`quantized_onnx_ops`])?
pub fn is_prequantized(bytes: &[u8]) -> Result<bool> {
    let proto = crate::proto::parse(bytes)?;
    let graph = proto.graph.as_ref().ok_or_else(|| malformed("no graph"))?;
    Ok(is_prequantized_graph(graph))
}

/// Whether a parsed graph has a QuantizeLinear, QLinear* or *Integer node.
pub(crate) fn is_prequantized_graph(graph: &GraphProto) -> bool {
    graph
        .node
        .iter()
        .any(|n| quantized_onnx_ops().contains(&n.op_type.as_str()))
}

pub(crate) fn malformed(reason: impl std::fmt::Display) -> ImportError {
    ImportError::Malformed {
        reason: reason.to_string(),
    }
}

impl QuantModel {
    /// Lowers a pre-quantized ONNX model.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_bytes_pinned(bytes, &crate::proto::Dims::new())
    }

    /// Parses a pre-quantized ONNX model with its symbolic dimensions given values (see
    /// [`crate::FloatModel::from_bytes_pinned`]).
    pub fn from_bytes_pinned(bytes: &[u8], dims: &crate::proto::Dims) -> Result<Self> {
        let mut proto = crate::proto::parse(bytes)?;
        crate::proto::prepare(&mut proto, dims)?;
        Self::from_prepared(&proto)
    }

    /// Lowers a parsed model, its dimensions pinned and its graph checked
    /// (`proto::prepare`).
    pub(crate) fn from_prepared(proto: &ModelProto) -> Result<Self> {
        let g = proto.graph.as_ref().ok_or_else(|| malformed("no graph"))?;
        let mut imp = Importer::new(g)?;
        for node in &g.node {
            imp.node(node)?;
        }
        let graph = imp.finish(g)?;
        let qop = g.node.iter().any(|n| {
            !n.domain.is_empty()
                || n.op_type.starts_with("QLinear")
                || n.op_type.ends_with("Integer")
        });
        Ok(Self {
            graph,
            format: if qop {
                QuantFormat::QOperator
            } else {
                QuantFormat::Qdq
            },
        })
    }

    /// Reads a pre-quantized ONNX file.
    pub fn from_path(path: &std::path::Path) -> Result<Self> {
        Self::from_bytes(&crate::error::read_file(path)?)
    }
}

/// The walk over the ONNX nodes.
pub(crate) struct Importer {
    pub(crate) graph: Graph,
    vals: HashMap<String, Val>,
    /// ONNX element type of every initializer (zero points give the integer range).
    pub(crate) zero_point_types: HashMap<String, i32>,
    /// The nodes that read each tensor, in graph order.
    readers: HashMap<String, Vec<NodeProto>>,
    /// The graph's output names.
    outputs: Vec<String>,
}

/// ONNX element types this importer reads.
fn int_range(elem_type: i32) -> Option<(i32, i32)> {
    match elem_type {
        2 => Some((0, 255)),    // uint8
        3 => Some((-128, 127)), // int8
        _ => None,
    }
}

impl Importer {
    fn new(g: &GraphProto) -> Result<Self> {
        let mut imp = Importer {
            graph: Graph {
                inputs: vec![],
                nodes: vec![],
                outputs: vec![],
                sources: vec![],
                layout: Default::default(),
                units_column: false,
            },
            vals: HashMap::new(),
            zero_point_types: HashMap::new(),
            readers: HashMap::new(),
            outputs: g.output.iter().map(|o| o.name.clone()).collect(),
        };
        for n in &g.node {
            let mut read: Vec<&String> = n.input.iter().filter(|i| !i.is_empty()).collect();
            read.sort_unstable();
            read.dedup();
            for name in read {
                imp.readers.entry(name.clone()).or_default().push(n.clone());
            }
        }
        for t in &g.initializer {
            imp.vals.insert(t.name.clone(), constant(t)?);
            imp.zero_point_types.insert(t.name.clone(), t.data_type);
        }
        let inits: Vec<&str> = g.initializer.iter().map(|t| t.name.as_str()).collect();
        let inputs = g.input.iter().filter(|i| !inits.contains(&i.name.as_str()));
        for (index, input) in inputs.enumerate() {
            let (elem, shape) = value_type(input)?;
            let (affine, val) = match int_range(elem) {
                Some((min, max)) => {
                    let a = Affine {
                        scale: 1.0,
                        zero_point: 0,
                        min,
                        max,
                        exact: true,
                    };
                    (a, Val::Int { id: index, q: None })
                }
                None if elem == 1 => (input_quantization(g, &input.name)?, Val::FloatIn(index)),
                None => {
                    return Err(ImportError::BadInput {
                        input: input.name.clone(),
                        reason: format!("ONNX element type {elem} is not float, int8 or uint8"),
                    })
                }
            };
            imp.graph.inputs.push(GraphInput {
                name: input.name.clone(),
                shape,
                scale: 0,
                affine: Some(affine),
            });
            imp.vals.insert(input.name.clone(), val);
        }
        Ok(imp)
    }

    pub(crate) fn val(&self, node: &NodeProto, i: usize) -> Result<Val> {
        let name = node
            .input
            .get(i)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| malformed(format!("node `{}` lacks input {i}", node_name(node))))?;
        self.vals.get(name).cloned().ok_or_else(|| {
            malformed(format!(
                "node `{}` reads unknown tensor `{name}`",
                node_name(node)
            ))
        })
    }

    /// Input `i` if present (optional ONNX inputs may be absent or empty).
    pub(crate) fn opt_val(&self, node: &NodeProto, i: usize) -> Result<Option<Val>> {
        match node.input.get(i) {
            Some(n) if !n.is_empty() => self.val(node, i).map(Some),
            _ => Ok(None),
        }
    }

    pub(crate) fn set(&mut self, node: &NodeProto, val: Val) {
        self.vals.insert(node.output[0].clone(), val);
    }

    /// The QuantizeLinear that alone reads `node`'s output, as onnxruntime requires to fuse a
    /// DQ → op → Q group into one integer kernel; otherwise it runs the op in float, which
    /// this importer does not, so any other reader is an error naming `node`.
    pub(crate) fn sole_quantize(&self, node: &NodeProto) -> Result<&NodeProto> {
        let out = node
            .output
            .first()
            .ok_or_else(|| malformed(format!("node `{}` has no output", node_name(node))))?;
        let readers = self.readers.get(out).map_or(&[][..], Vec::as_slice);
        match readers {
            [q] if q.op_type == "QuantizeLinear"
                && q.input[0] == *out
                && !self.outputs.contains(out) =>
            {
                Ok(q)
            }
            _ => {
                let mut who: Vec<String> = readers
                    .iter()
                    .map(|r| format!("`{}` ({})", node_name(r), r.op_type))
                    .collect();
                if self.outputs.contains(out) {
                    who.push("the graph output".into());
                }
                let who = if who.is_empty() {
                    "nothing".into()
                } else {
                    who.join(", ")
                };
                Err(unsupported(
                    node,
                    "output",
                    format!("read by {who}, not by one QuantizeLinear alone"),
                ))
            }
        }
    }

    /// Shape of a graph tensor.
    pub(crate) fn shape(&self, id: TensorId) -> Vec<usize> {
        self.graph.shape(id).to_vec()
    }

    /// Appends a node; returns its tensor.
    pub(crate) fn emit(
        &mut self,
        node: &NodeProto,
        op: Op,
        inputs: Vec<TensorId>,
        shape: Vec<usize>,
        affine: Option<Affine>,
    ) -> TensorId {
        self.graph.nodes.push(Node {
            name: node_name(node),
            op,
            inputs,
            shape,
            scale: 0,
            affine,
        });
        self.graph.inputs.len() + self.graph.nodes.len() - 1
    }

    fn node(&mut self, node: &NodeProto) -> Result<()> {
        let domain = match node.domain.as_str() {
            "ai.onnx" => "",
            d => d,
        };
        let lower = OPS
            .iter()
            .find(|(d, op, ..)| *d == domain && *op == node.op_type)
            .map(|(.., lower)| lower)
            .ok_or_else(|| ImportError::UnsupportedOp {
                node: node_name(node),
                op_type: if node.domain.is_empty() {
                    node.op_type.clone()
                } else {
                    format!("{}.{}", node.domain, node.op_type)
                },
            })?;
        lower(self, node)
    }

    /// A `Constant` node: its value tensor.
    fn constant_node(&mut self, node: &NodeProto) -> Result<()> {
        let t = node
            .attribute
            .iter()
            .find(|a| a.name == "value")
            .and_then(|a| a.t.as_ref())
            .ok_or_else(|| unsupported(node, "value", "not a tensor"))?;
        let c = constant(t)?;
        self.set(node, c);
        Ok(())
    }

    fn finish(mut self, g: &GraphProto) -> Result<Graph> {
        for out in &g.output {
            let val = self
                .vals
                .get(&out.name)
                .cloned()
                .ok_or_else(|| malformed(format!("output `{}` is never computed", out.name)))?;
            let (id, affine) = match val {
                Val::Deq { id, q } => (id, Some(q)),
                Val::Int { id, .. } => (id, None),
                _ => {
                    return Err(ImportError::UnsupportedAttribute {
                        node: out.name.clone(),
                        op_type: "output".into(),
                        attribute: "value".into(),
                        value: "a float tensor not computed in integers (end the model with \
                                QuantizeLinear/DequantizeLinear)"
                            .into(),
                    })
                }
            };
            // An output that is a (quantized) input still gets a node of its own: the
            // proof then shows the input's integers, range-checked.
            let id = match id.checked_sub(self.graph.inputs.len()) {
                Some(_) => id,
                None => {
                    let shape = self.shape(id);
                    self.graph.nodes.push(Node {
                        name: out.name.clone(),
                        op: Op::Reshape(zkinfer_circuits::ops::Reshape {}),
                        inputs: vec![id],
                        shape,
                        scale: 0,
                        affine: None,
                    });
                    self.graph.inputs.len() + self.graph.nodes.len() - 1
                }
            };
            let n = id - self.graph.inputs.len();
            self.graph.nodes[n].affine = affine;
            self.graph.outputs.push(id);
        }
        pool_first::pool_first(&mut self.graph);
        self.graph.prune_dead();
        self.graph
            .validate()
            .map_err(|e| malformed(format!("lowered graph: {e}")))?;
        Ok(self.graph)
    }
}

/// The QuantizeLinear parameters applied to float input `name` (every consumer must be a
/// QuantizeLinear with the same constant parameters).
fn input_quantization(g: &GraphProto, name: &str) -> Result<Affine> {
    let mut found: Option<Affine> = None;
    for n in g.node.iter().filter(|n| n.input.iter().any(|i| i == name)) {
        if n.op_type != "QuantizeLinear" || n.input[0] != name {
            return Err(ImportError::BadInput {
                input: name.into(),
                reason: format!(
                    "float input feeds `{}` ({}) directly; a pre-quantized model must quantize its inputs",
                    node_name(n),
                    n.op_type
                ),
            });
        }
        let init = |i: usize| {
            n.input
                .get(i)
                .and_then(|nm| g.initializer.iter().find(|t| &t.name == nm))
        };
        let scale = init(1)
            .map(constant)
            .transpose()?
            .and_then(|c| scalar(&c))
            .ok_or_else(|| unsupported(n, "y_scale", "not a constant scalar"))?;
        let (zp, range) = match init(2) {
            Some(t) => {
                let range = int_range(t.data_type)
                    .ok_or_else(|| unsupported(n, "y_zero_point type", t.data_type))?;
                (scalar(&constant(t)?).unwrap_or(0.0), range)
            }
            None => (0.0, (0, 255)),
        };
        let a = Affine {
            scale: scale as f32,
            zero_point: zp as i32,
            min: range.0,
            max: range.1,
            exact: false,
        };
        if found.is_some_and(|f| f != a) {
            return Err(unsupported(
                n,
                "quantization",
                "differs between consumers of one input",
            ));
        }
        found = Some(a);
    }
    found.ok_or_else(|| ImportError::BadInput {
        input: name.into(),
        reason: "float input is never quantized".into(),
    })
}

/// Element type and static shape of a graph input.
fn value_type(v: &tract_onnx::pb::ValueInfoProto) -> Result<(i32, Vec<usize>)> {
    use tract_onnx::pb::tensor_shape_proto::dimension::Value as Dim;
    use tract_onnx::pb::type_proto::Value;
    let bad = |why: &str| ImportError::BadInput {
        input: v.name.clone(),
        reason: why.into(),
    };
    let Some(Value::TensorType(t)) = v.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
        return Err(bad("not a tensor"));
    };
    let dims = t.shape.as_ref().ok_or_else(|| bad("no shape"))?;
    let shape = dims
        .dim
        .iter()
        .map(|d| match d.value {
            Some(Dim::DimValue(n)) if n > 0 => Ok(n as usize),
            _ => Err(bad("symbolic or zero dimension; export with a fixed shape")),
        })
        .collect::<Result<_>>()?;
    Ok((t.elem_type, shape))
}

/// A constant tensor's values.
pub(crate) fn constant(t: &TensorProto) -> Result<Val> {
    let tensor =
        tract_onnx::tensor::load_tensor(&tract_onnx::data_resolver::MmapDataResolver, t, None)
            .map_err(|e| malformed(format!("tensor `{}`: {e:#}", t.name)))?;
    let int = tensor.datum_type().is_integer();
    let data: Vec<f64> = tensor
        .cast_to::<f64>()
        .map_err(|e| malformed(format!("tensor `{}`: {e:#}", t.name)))?
        .into_owned()
        .into_plain_array::<f64>()
        .map(|a| a.iter().copied().collect::<Vec<_>>())
        .map_err(|e| malformed(format!("tensor `{}`: {e:#}", t.name)))?;
    Ok(Val::Const {
        shape: tensor.shape().to_vec(),
        data,
        int,
    })
}

/// The single value of a one-element constant.
pub(crate) fn scalar(v: &Val) -> Option<f64> {
    match v {
        Val::Const { data, .. } if data.len() == 1 => Some(data[0]),
        _ => None,
    }
}

pub(crate) fn node_name(node: &NodeProto) -> String {
    if node.name.is_empty() {
        format!(
            "{}:{}",
            node.op_type,
            node.output.first().cloned().unwrap_or_default()
        )
    } else {
        node.name.clone()
    }
}

pub(crate) fn unsupported(
    node: &NodeProto,
    attribute: &str,
    value: impl std::fmt::Debug,
) -> ImportError {
    ImportError::UnsupportedAttribute {
        node: node_name(node),
        op_type: node.op_type.clone(),
        attribute: attribute.into(),
        value: format!("{value:?}"),
    }
}

fn attr<'n>(node: &'n NodeProto, name: &str) -> Option<&'n AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

/// Integer attribute with a default.
pub(crate) fn attr_i(node: &NodeProto, name: &str, default: i64) -> i64 {
    attr(node, name).map_or(default, |a| a.i)
}

/// Float attribute with a default.
pub(crate) fn attr_f(node: &NodeProto, name: &str, default: f32) -> f32 {
    attr(node, name).map_or(default, |a| a.f)
}

/// Integer-list attribute, if present.
pub(crate) fn attr_ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(node, name).map(|a| a.ints.clone())
}

/// String attribute, if present.
pub(crate) fn attr_s(node: &NodeProto, name: &str) -> Option<String> {
    attr(node, name).map(|a| String::from_utf8_lossy(&a.s).into_owned())
}
