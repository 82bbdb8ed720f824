//! Normalizations tract fuses, lowered to primitives that are cheap to prove:
//! Softmax as `e = exp(x − max)`, `y = e · recip(Σ e)`; RmsNorm (the core of
//! LayerNormalization) as `y = x · rsqrt(mean(x²) + ε)`. The exp, recip and rsqrt tables are
//! sized to the calibrated ranges of their inputs.

use super::masked::{live_elements, with_masked_zeros, Live};
use super::nonlinear::{bounded, tabulate, Bounds};
use super::reduce::reduce_map;
use super::{unsupported, Registry};
use crate::error::Result;
use crate::quantize::{Builder, QuantSettings};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::nn::{RmsNorm, Softmax, SoftmaxKind};
use zkinfer_circuits::ops::{Add, AffineRow, Cand, Linear, Max, Mul, Op};
use zkinfer_circuits::TensorId;

pub(crate) fn register(reg: &mut Registry) {
    reg.op::<Softmax>("Softmax", &["Softmax"], softmax);
    // The core of LayerNormalization, after its centering.
    reg.op::<RmsNorm>("RmsNorm", &[], rms_norm);
}

fn softmax(b: &mut Builder, node: &TypedNode, op: &Softmax) -> Result<()> {
    if !matches!(op.kind, SoftmaxKind::Softmax) || op.quant_output_dt.is_some() {
        return Err(unsupported(node, "kind", op.kind));
    }
    let name = &node.name;
    let x = b.tensor(node.inputs[0], name)?;
    let x = b.at_act_scale(x, name);
    let (shape, scale) = (b.graph.shape(x).to_vec(), b.graph.scale(x));
    let (red, of, groups) = reduce_map(&shape, &op.axes);
    let group = groups.iter().map(Vec::len).max().unwrap_or(1);
    let exp_name = format!("{name}.exp");
    // exp ∈ [0, 1] and their sum ≤ group: as fine as the sum's range check allows, never
    // coarser than the default (a −1e4 mask elsewhere makes that 2^8).
    let fine =
        (zkinfer_circuits::chip::RANGE_BITS as i32 - 2 - (group as f64).log2().ceil() as i32)
            .min(b.settings.target.max_act_scale());
    let exp_scale = b.scale_of(&exp_name).max(fine);
    // The elements a mask zeroes are left out: the softmax runs over the others.
    let Live {
        live,
        at,
        groups: live_groups,
        of: live_of,
    } = live_elements(b, name, x, (&groups, &of), exp_scale);
    let live_shape = if live.len() == of.len() {
        shape.clone()
    } else {
        vec![live.len()]
    };
    let windows = live_groups
        .iter()
        .map(|g| g.iter().map(|k| Cand::of(live[*k as usize])).collect())
        .collect();
    let m = b.push(
        &format!("{name}.max"),
        Op::Max(Max {
            min: false,
            windows,
        }),
        vec![x],
        red.clone(),
        scale,
    );
    let sub = Add {
        lhs_mul: 1,
        rhs_mul: -1,
        lhs: live.clone(),
        rhs: live_of.clone(),
    };
    let d = b.push(
        &format!("{name}.shifted"),
        Op::Add(sub),
        vec![x, m],
        live_shape.clone(),
        scale,
    );
    // The shifted logits are at most 0 (the max is subtracted exactly), and below the floor
    // where exp rounds to 0 they may be clamped to it.
    let (d, floor) = floor_exp_input(b, &exp_name, d, exp_scale)?;
    let bounds = Bounds {
        clip: Some((floor, 0.0)),
        out_scale: Some(exp_scale),
        ..Bounds::default()
    };
    let e = tabulate(b, &exp_name, d, "exp", f64::exp, bounds)?;
    let rows = live_groups
        .iter()
        .map(|g| AffineRow {
            bias: 0,
            terms: g.iter().map(|k| (*k, 1)).collect(),
        })
        .collect();
    let es = b.graph.scale(e);
    let sum = b.push(
        &format!("{name}.sum"),
        Op::Linear(Linear { rows }),
        vec![e],
        red,
        es,
    );
    let r = tabulate(
        b,
        &format!("{name}.recip"),
        sum,
        "recip",
        |v| 1.0 / v,
        // A sum of exps of shifted logits: one is exp(0) = 1, none is more (within the
        // table's or segments' error, far below 1/2).
        Bounds {
            domain: Some(f64::MIN_POSITIVE),
            clip: Some((0.5, 2.0 * group as f64)),
            cover: None,
            // 1/sum ∈ [1/(2·group), 2].
            out_scale: Some(b.scale_of(&format!("{name}.recip")).max(exp_scale)),
        },
    )?;
    let rs = b.graph.scale(r);
    let product = Op::Mul(Mul {
        lhs: (0..live.len() as u32).collect(),
        rhs: live_of,
    });
    let y = if live.len() == of.len() {
        b.push(name, product, vec![e, r], shape, es + rs)
    } else {
        let y = b.push(
            &format!("{name}.live"),
            product,
            vec![e, r],
            live_shape,
            es + rs,
        );
        with_masked_zeros(b, name, y, &at, shape)
    };
    b.bind(node, y);
    Ok(())
}

/// Clamps a softmax's shifted logits `d` (≤ 0) from below at the floor under which `exp`
/// rounds to 0 at its output scale `exp_scale`, when the calibrated range (with its margin) reaches so
/// far below that the exp table would otherwise be coarser than `d`'s own scale (a −1e4
/// causal mask would leave it only every second integer apart: e^±1 errors). The clamp
/// changes no output: every table entry below the floor is 0. Returns the input of the
/// table and the lower bound it respects.
fn floor_exp_input(
    b: &mut Builder,
    exp_name: &str,
    d: TensorId,
    exp_scale: i32,
) -> Result<(TensorId, f64)> {
    let s = b.graph.scale(d);
    // exp(x)·2^exp_scale < 1/2 below ln(2^-exp_scale / 2): those entries round to 0.
    let floor = (0.5f64.powi(exp_scale + 1)).ln();
    let (lo, _) = b.observed_range(d, exp_name)?;
    let reach = lo * (1.0 + 2.0 * b.range_margin());
    let table_span = f64::from(1u32 << b.settings.target.table_bits()) * 2f64.powi(-s);
    if reach >= floor || -reach <= table_span {
        return Ok((d, f64::NEG_INFINITY));
    }
    let bound = QuantSettings::quantize(floor as f32, s);
    let clamped = bounded(b, &format!("{exp_name}.floor"), d, false, bound);
    Ok((clamped, bound as f64 * 2f64.powi(-s)))
}

fn rms_norm(b: &mut Builder, node: &TypedNode, op: &RmsNorm) -> Result<()> {
    let eps = op
        .eps
        .cast_to_scalar::<f32>()
        .map_err(|_| unsupported(node, "eps", &op.eps))?;
    let name = &node.name;
    let x = b.tensor(node.inputs[0], name)?;
    let x = b.at_act_scale(x, name);
    let (shape, scale) = (b.graph.shape(x).to_vec(), b.graph.scale(x));
    let (red, of, groups) = reduce_map(&shape, &[op.axis]);
    let n = of.len() as u32;
    let idx: Vec<u32> = (0..n).collect();
    // The mean of the squares and its reciprocal square root have known ranges: each gets
    // the finest scale its range allows, not the model's default (which a large activation
    // elsewhere, such as a -1e4 attention mask, makes coarse).
    let (lo, hi) = b.observed_range(x, name)?;
    let reach = lo.abs().max(hi.abs()) * (1.0 + b.range_margin());
    let mean_scale = b.scale_for(reach * reach);
    let ms = b.mean_of_squares(
        &format!("{name}.mean_sq"),
        x,
        &groups,
        red,
        (eps, mean_scale),
    )?;
    // The table starts at the smallest calibrated mean over (1 + 2·margin)² (see `Bounds`).
    let (ms_lo, _) = b.observed_range(ms, name)?;
    let r_max = (1.0 + 2.0 * b.range_margin()) / ms_lo.max(f64::MIN_POSITIVE).sqrt();
    let bounds = Bounds {
        out_scale: Some(b.scale_for(r_max)),
        ..Bounds::domain(f64::MIN_POSITIVE)
    };
    let r = tabulate(
        b,
        &format!("{name}.rsqrt"),
        ms,
        "rsqrt",
        |v| 1.0 / v.sqrt(),
        bounds,
    )?;
    let rs = b.graph.scale(r);
    let y = b.push(
        name,
        Op::Mul(Mul { lhs: idx, rhs: of }),
        vec![x, r],
        shape,
        scale + rs,
    );
    b.bind(node, y);
    Ok(())
}
