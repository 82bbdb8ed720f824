//! Conv and ConvTranspose (2-D, NCHW, group 1) as sparse linear maps (im2col); MaxPool and
//! AveragePool (tract: SumPool) over the same windows, 1-D pools as 2-D of height 1.

use super::{const_f32, unsupported, Registry};
use crate::error::Result;
use crate::quantize::{concrete, Builder, QuantSettings};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::cnn::{
    Conv, Deconv, KernelFormat, MaxPool, PaddingSpec, PoolSpec, SumPool,
};
use tract_onnx::tract_core::ops::nn::DataFormat;
use zkinfer_circuits::ops::{AffineRow, Cand, Linear, Max, Op};

pub(crate) fn register(reg: &mut Registry) {
    reg.op::<Conv>("Conv", &["Conv"], conv);
    reg.op::<Deconv>("Deconv", &["ConvTranspose"], deconv);
    reg.op::<MaxPool>("MaxPool", &["MaxPool"], max_pool);
    reg.op::<SumPool>("SumPool", &["AveragePool"], sum_pool);
}

/// The input taps of every output position of a 2-D NCHW window op.
struct Windows {
    n: usize,
    c: usize,
    /// For each output (oh, ow): `(kernel tap index, input offset within a channel)`.
    taps: Vec<Vec<(usize, usize)>>,
    in_hw: [usize; 2],
}

fn windows(node: &TypedNode, spec: &PoolSpec, x_shape: &[usize]) -> Result<Windows> {
    if spec.data_format != DataFormat::NCHW {
        return Err(unsupported(node, "data_format", spec.data_format));
    }
    let (in_hw, k, strides, dil, pads) = match (x_shape.len(), spec.kernel_shape.len()) {
        (4, 2) => {
            let in_hw = [x_shape[2], x_shape[3]];
            let p = spec.computed_padding(&in_hw);
            let k = [spec.kernel_shape[0], spec.kernel_shape[1]];
            let (s, d) = (spec.strides(), spec.dilations());
            (
                in_hw,
                k,
                [s[0], s[1]],
                [d[0], d[1]],
                [
                    (p[0].pad_before, p[0].convoluted),
                    (p[1].pad_before, p[1].convoluted),
                ],
            )
        }
        // 1-D: a 2-D window of height 1.
        (3, 1) => {
            let p = spec.computed_padding(&[x_shape[2]]);
            let (s, d) = (spec.strides(), spec.dilations());
            (
                [1, x_shape[2]],
                [1, spec.kernel_shape[0]],
                [1, s[0]],
                [1, d[0]],
                [(0, 1), (p[0].pad_before, p[0].convoluted)],
            )
        }
        _ => return Err(unsupported(node, "rank", x_shape)),
    };
    let geometry = WindowGeometry {
        in_hw,
        kernel: k,
        strides,
        dilations: dil,
        pad_before: [pads[0].0, pads[1].0],
        out_hw: [pads[0].1, pads[1].1],
    };
    Ok(Windows {
        n: x_shape[0],
        c: x_shape[1],
        taps: geometry.taps(),
        in_hw,
    })
}

/// The geometry of a 2-D sliding window (convolution or pooling) over one channel plane.
pub(crate) struct WindowGeometry {
    /// Input height and width.
    pub in_hw: [usize; 2],
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Strides.
    pub strides: [usize; 2],
    /// Dilations.
    pub dilations: [usize; 2],
    /// Padding before each axis (padded taps are skipped).
    pub pad_before: [usize; 2],
    /// Output height and width.
    pub out_hw: [usize; 2],
}

impl WindowGeometry {
    /// For each output position (row-major): `(kernel tap index, input offset in the plane)`
    /// of every tap that lands inside the input.
    pub fn taps(&self) -> Vec<Vec<(usize, usize)>> {
        let (k, s, d, p) = (self.kernel, self.strides, self.dilations, self.pad_before);
        let mut taps = Vec::with_capacity(self.out_hw[0] * self.out_hw[1]);
        for oh in 0..self.out_hw[0] {
            for ow in 0..self.out_hw[1] {
                let mut v = Vec::new();
                for kh in 0..k[0] {
                    for kw in 0..k[1] {
                        let ih = (oh * s[0] + kh * d[0]) as isize - p[0] as isize;
                        let iw = (ow * s[1] + kw * d[1]) as isize - p[1] as isize;
                        if ih >= 0
                            && iw >= 0
                            && (ih as usize) < self.in_hw[0]
                            && (iw as usize) < self.in_hw[1]
                        {
                            v.push((kh * k[1] + kw, ih as usize * self.in_hw[1] + iw as usize));
                        }
                    }
                }
                taps.push(v);
            }
        }
        taps
    }
}

fn conv(b: &mut Builder, node: &TypedNode, op: &Conv) -> Result<()> {
    if op.group != 1 {
        return Err(unsupported(node, "group", op.group));
    }
    if op.q_params.is_some() {
        return Err(unsupported(node, "q_params", op.q_params));
    }
    if op.kernel_fmt != KernelFormat::OIHW {
        return Err(unsupported(node, "kernel_fmt", op.kernel_fmt));
    }
    let x = b.tensor(node.inputs[0], &node.name)?;
    let x = b.at_act_scale(x, &node.name);
    let kernel =
        const_f32(b, node.inputs[1])?.ok_or_else(|| unsupported(node, "kernel", "computed"))?;
    let bias = match node.inputs.get(2) {
        Some(o) => const_f32(b, *o)?.ok_or_else(|| unsupported(node, "bias", "computed"))?,
        None => tract_ndarray::ArrayD::zeros(vec![1]),
    };
    let x_shape = b.graph.shape(x).to_vec();
    let w = windows(node, &op.pool_spec, &x_shape)?;
    let ks = kernel.shape().to_vec();
    if ks.len() != x_shape.len() || ks[1] != w.c {
        return Err(unsupported(node, "kernel shape", ks));
    }
    let out_c = ks[0];
    let kernel: Vec<f32> = kernel.iter().copied().collect();
    let bias: Vec<f32> = bias.iter().copied().collect();
    let (ws, scale) = (
        b.settings.weight_scale,
        b.graph.scale(x) + b.settings.weight_scale,
    );
    let taps_per_c: usize = ks[2..].iter().product();
    let plane = w.in_hw[0] * w.in_hw[1];
    let mut rows = Vec::new();
    for n in 0..w.n {
        for o in 0..out_c {
            let bq = QuantSettings::quantize(bias[if bias.len() == 1 { 0 } else { o }], scale);
            for taps in &w.taps {
                let mut terms = Vec::with_capacity(taps.len() * w.c);
                for c in 0..w.c {
                    for (tap, off) in taps {
                        let wv = kernel[(o * w.c + c) * taps_per_c + tap];
                        terms.push((
                            ((n * w.c + c) * plane + off) as u32,
                            QuantSettings::quantize(wv, ws),
                        ));
                    }
                }
                rows.push(AffineRow { bias: bq, terms });
            }
        }
    }
    let shape = concrete(node, 0)?;
    b.emit(node, Op::Linear(Linear { rows }), vec![x], shape, scale)
}

/// The input coordinate whose kernel tap `k` lands on output coordinate `o` of a transposed
/// convolution (`i·stride + k·dilation − pad = o`), if there is one.
fn scatter_source(
    o: usize,
    pad: usize,
    k: usize,
    dilation: usize,
    stride: usize,
    len: usize,
) -> Option<usize> {
    let t = (o + pad).checked_sub(k * dilation)?;
    (t.is_multiple_of(stride) && t / stride < len).then_some(t / stride)
}

/// ConvTranspose (tract `Deconv`, 2-D NCHW, group 1): every input pixel scatters the kernel
/// into the output, `out[o, ih·s + kh·d − pad] += x[c, ih]·w[o, c, kh]`, gathered here per
/// output pixel into a sparse linear map.
fn deconv(b: &mut Builder, node: &TypedNode, op: &Deconv) -> Result<()> {
    if op.group != 1
        || op.kernel_format != KernelFormat::OIHW
        || op.pool_spec.data_format != DataFormat::NCHW
    {
        return Err(unsupported(
            node,
            "group/kernel format/data format",
            (op.group, op.kernel_format, op.pool_spec.data_format),
        ));
    }
    let x = b.tensor(node.inputs[0], &node.name)?;
    let x = b.at_act_scale(x, &node.name);
    let kernel =
        const_f32(b, node.inputs[1])?.ok_or_else(|| unsupported(node, "kernel", "computed"))?;
    let bias: Vec<f32> = match node.inputs.get(2) {
        Some(o) => const_f32(b, *o)?
            .ok_or_else(|| unsupported(node, "bias", "computed"))?
            .iter()
            .copied()
            .collect(),
        None => vec![0.0],
    };
    let xs = b.graph.shape(x).to_vec();
    let out = concrete(node, 0)?;
    let ks = kernel.shape().to_vec();
    if xs.len() != 4 || ks.len() != 4 || ks[1] != xs[1] {
        return Err(unsupported(node, "shapes", (&xs, &ks)));
    }
    let (s, d) = (op.pool_spec.strides(), op.pool_spec.dilations());
    let mut before = [0usize; 2];
    for a in 0..2 {
        let full = (xs[2 + a] - 1) * s[a]
            + (ks[2 + a] - 1) * d[a]
            + 1
            + op.adjustments.get(a).copied().unwrap_or(0);
        let total = full.saturating_sub(out[2 + a]);
        before[a] = match &op.pool_spec.padding {
            PaddingSpec::Explicit(bef, _) | PaddingSpec::ExplicitOnnxPool(bef, _, _) => bef[a],
            PaddingSpec::Valid => 0,
            PaddingSpec::SameUpper => total / 2,
            PaddingSpec::SameLower => total - total / 2,
        };
    }
    let kernel: Vec<f32> = kernel.iter().copied().collect();
    let (ws, scale) = (
        b.settings.weight_scale,
        b.graph.scale(x) + b.settings.weight_scale,
    );
    let (n, c, oc) = (xs[0], xs[1], ks[0]);
    let mut rows = Vec::with_capacity(out.iter().product());
    for bn in 0..n {
        for o in 0..oc {
            let bq = QuantSettings::quantize(bias[if bias.len() == 1 { 0 } else { o }], scale);
            for oh in 0..out[2] {
                for ow in 0..out[3] {
                    let mut terms = Vec::new();
                    for ci in 0..c {
                        for kh in 0..ks[2] {
                            let Some(ih) = scatter_source(oh, before[0], kh, d[0], s[0], xs[2])
                            else {
                                continue;
                            };
                            for kw in 0..ks[3] {
                                let Some(iw) = scatter_source(ow, before[1], kw, d[1], s[1], xs[3])
                                else {
                                    continue;
                                };
                                let xi = ((bn * c + ci) * xs[2] + ih) * xs[3] + iw;
                                let wv = kernel[((o * c + ci) * ks[2] + kh) * ks[3] + kw];
                                terms.push((xi as u32, QuantSettings::quantize(wv, ws)));
                            }
                        }
                    }
                    rows.push(AffineRow { bias: bq, terms });
                }
            }
        }
    }
    b.emit(node, Op::Linear(Linear { rows }), vec![x], out, scale)
}

/// Flat input indices of every pooled output, channel by channel.
fn pool_windows(w: &Windows) -> Vec<Vec<u32>> {
    let plane = w.in_hw[0] * w.in_hw[1];
    let mut out = Vec::new();
    for nc in 0..w.n * w.c {
        for taps in &w.taps {
            out.push(
                taps.iter()
                    .map(|(_, off)| (nc * plane + off) as u32)
                    .collect(),
            );
        }
    }
    out
}

fn max_pool(b: &mut Builder, node: &TypedNode, op: &MaxPool) -> Result<()> {
    if op.with_index_outputs.is_some() {
        return Err(unsupported(node, "index output", op.with_index_outputs));
    }
    let x = b.tensor(node.inputs[0], &node.name)?;
    let x = b.at_act_scale(x, &node.name);
    let w = windows(node, &op.pool_spec, b.graph.shape(x))?;
    let shape = concrete(node, 0)?;
    let scale = b.graph.scale(x);
    // MaxPool(Relu(y)) is the maximum of each window of y and 0: one candidate more per
    // output instead of a ReLU per input (the ReLU node is then laid out only if something
    // else reads it).
    let (x, zero) = match b.graph.producer(x) {
        Some(n) if matches!(n.op, Op::Relu(_)) && b.graph.scale(n.inputs[0]) == scale => {
            (n.inputs[0], Some(Cand::Const(0)))
        }
        _ => (x, None),
    };
    let windows = pool_windows(&w)
        .into_iter()
        .map(|win| win.into_iter().map(Cand::of).chain(zero).collect())
        .collect();
    let op = Op::Max(Max {
        min: false,
        windows,
    });
    b.emit(node, op, vec![x], shape, scale)
}

fn sum_pool(b: &mut Builder, node: &TypedNode, op: &SumPool) -> Result<()> {
    let x = b.tensor(node.inputs[0], &node.name)?;
    let x = b.at_act_scale(x, &node.name);
    let w = windows(node, &op.pool_spec, b.graph.shape(x))?;
    let area: usize = op.pool_spec.kernel_shape.iter().product();
    let ws = if op.normalize {
        b.settings.weight_scale
    } else {
        0
    };
    let rows = pool_windows(&w)
        .into_iter()
        .map(|win| {
            let count = if op.count_include_pad {
                area
            } else {
                win.len()
            };
            let weight = if op.normalize {
                QuantSettings::quantize(1.0 / count as f32, ws)
            } else {
                1
            };
            AffineRow {
                bias: 0,
                terms: win.into_iter().map(|i| (i, weight)).collect(),
            }
        })
        .collect();
    let shape = concrete(node, 0)?;
    let scale = b.graph.scale(x) + ws;
    b.emit(node, Op::Linear(Linear { rows }), vec![x], shape, scale)
}
