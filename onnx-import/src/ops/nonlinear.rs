//! Nonlinear elementwise functions (Sigmoid, Tanh, Exp, Ln, Erf, Sqrt, Rsqrt, Recip, Gelu,
//! Sin, Cos, PowConst, …) as lookup tables or interpolated segments sized to the calibrated
//! input range, and Square by the linear gate's product term. The functions are one table
//! ([`FUNCTIONS`]): adding one is one row there.
//!
//! Both forms cover the input's calibrated range widened on each side by the range margin
//! ([`crate::QuantSettings::range_margin`]; by default [`crate::range_margin_for`] the number
//! of calibration samples), and odd saturating functions cover it on both sides of 0.
//! A table rescales the input to the finest scale at which that range fits the target's table
//! bits ([`crate::Target::table_bits`]), then as coarse as keeps adjacent outputs within the
//! target's output step, and tabulates `round(f(x)·2^act_scale)` at every grid point:
//! [`Lookup::rows`] rows (a third of a row per element) behind the rescale ([`Rescale::rows`]),
//! plus a table row per entry. Segments ([`Interp`], fitted in [`super::segments`])
//! decompose the input itself: [`Interp::rows_per_element`] rows per element and a table row
//! per segment and output. [`Nonlinear`] picks the form; `Auto` compares the circuit rows
//! node by node, as the circuit ops count them.

use super::{segments, Registry};
use crate::error::Result;
use crate::quantize::{Builder, Nonlinear, QuantSettings};
use std::f64::consts::{PI, SQRT_2};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::element_wise::ElementWiseOp;
use tract_onnx::tract_core::ops::math::PowConst;
use zkinfer_circuits::chip::{ACT_BOUND, RANGE_BITS};
use zkinfer_circuits::ops::{circuit_rows, Cand, FnTable, Interp, Lookup, Max, Op, Rescale};
use zkinfer_circuits::TensorId;

/// One elementwise function: `(tract op, ONNX op types that become it, f, lower bound of its
/// domain (open above 0), saturation)`. The saturation, given the target's output step, is
/// where an odd function is within half a step of its asymptotes: inputs beyond are clamped
/// (max gadget) instead of tabulated (`1 − σ(x) < e^-x`, `1 − tanh(x) < 2e^-2x`,
/// `erfc(2.75) = 1.0e-4`). The table's function name is the tract op's, in lower case.
type Function = (
    &'static str,
    &'static [&'static str],
    RealFn,
    Option<f64>,
    Option<Saturation>,
);

/// A real function of one variable.
type RealFn = fn(f64) -> f64;

/// The saturation bound of a function for an output step.
type Saturation = fn(f64) -> f64;

/// Every elementwise function lowered to a table or segments: adding one is one row here.
#[rustfmt::skip]
const FUNCTIONS: &[Function] = &[
    ("Sigmoid", &["Sigmoid"], sigmoid, None, Some(|step| (2.0 / step).ln().ceil().max(8.0))),
    ("Tanh", &["Tanh"], f64::tanh, None, Some(|step| ((0.5 * (4.0 / step).ln() * 4.0).ceil() / 4.0).max(4.5))),
    ("Exp", &["Exp"], f64::exp, None, None),
    ("Ln", &["Log"], f64::ln, Some(f64::MIN_POSITIVE), None),
    ("Erf", &["Erf"], erf, None, Some(|_| 2.75)),
    ("Sqrt", &["Sqrt"], f64::sqrt, Some(0.0), None),
    ("Rsqrt", &[], |x| 1.0 / x.sqrt(), Some(f64::MIN_POSITIVE), None),
    ("Recip", &["Reciprocal"], |x| 1.0 / x, Some(f64::MIN_POSITIVE), None),
    ("GeluExact", &["Gelu"], |x| 0.5 * x * (1.0 + erf(x / SQRT_2)), None, None),
    ("GeluApproximate", &["Gelu"], |x| 0.5 * x * (1.0 + ((2.0 / PI).sqrt() * (x + 0.044715 * x.powi(3))).tanh()), None, None),
    ("Silu", &[], |x| x / (1.0 + (-x).exp()), None, None),
    ("Sin", &["Sin"], f64::sin, None, None),
    ("Cos", &["Cos"], f64::cos, None, None),
];

pub(crate) fn register(reg: &mut Registry) {
    for function in FUNCTIONS {
        reg.op(function.0, function.1, move |b, node, _: &ElementWiseOp| {
            unary(b, node, function)
        });
    }
    reg.elementwise::<PowConst>("PowConst", &["Pow"], pow_const);
    // Pow 2.
    reg.op::<ElementWiseOp>("Square", &["Pow"], square);
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn erf(x: f64) -> f64 {
    // Abramowitz–Stegun 7.1.26 is too coarse (1.5e-7 is fine for tables at 2^-16, but keep
    // full precision): use the series / continued fraction split.
    if x.abs() < 2.5 {
        let (mut sum, mut term, x2) = (x, x, x * x);
        for n in 1..60 {
            term *= -x2 / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / PI.sqrt()
    } else {
        // erfc continued fraction (Lentz), accurate to ~1e-12 for |x| >= 2.5.
        let z = x.abs();
        let mut f = z;
        for k in (1..60).rev() {
            f = z + (k as f64 / 2.0) / f;
        }
        let erfc = (-z * z).exp() / (f * PI.sqrt());
        (1.0 - erfc) * x.signum()
    }
}

fn unary(b: &mut Builder, node: &TypedNode, function: &Function) -> Result<()> {
    let &(name, _, f, domain, saturation) = function;
    let step = step_of(b);
    function_of(
        b,
        node,
        &name.to_lowercase(),
        f,
        domain,
        saturation.map(|s| s(step)),
    )
}

fn pow_const(b: &mut Builder, node: &TypedNode, op: &PowConst) -> Result<()> {
    let p = f64::from(op.exponent);
    function_of(b, node, "powconst", move |x| x.powf(p), None, None)
}

/// `f` of the node's input, through a table or segments; an odd function saturating at
/// `sat` is clamped there.
fn function_of(
    b: &mut Builder,
    node: &TypedNode,
    name: &str,
    f: impl Fn(f64) -> f64,
    domain: Option<f64>,
    sat: Option<f64>,
) -> Result<()> {
    let x = b.tensor(node.inputs[0], &node.name)?;
    let mut x = b.at_act_scale(x, &node.name);
    let mut bounds = Bounds {
        domain,
        ..Bounds::default()
    };
    if let Some(sat) = sat {
        // An odd-symmetric saturating function: the table covers the calibrated magnitude,
        // with its margin, on both sides; where that reaches the saturation, inputs are
        // clamped there and the table covers the whole unsaturated interval.
        let (lo, hi) = b.observed_range(x, &node.name)?;
        let reach = lo.abs().max(hi.abs()) * (1.0 + 2.0 * b.range_margin());
        if reach > sat {
            x = clamp(b, &node.name, x, sat);
            bounds.clip = Some((-sat, sat));
        }
        bounds.cover = Some((-reach.min(sat), reach.min(sat)));
    }
    let out = tabulate(b, &node.name, x, name, f, bounds)?;
    b.bind(node, out);
    Ok(())
}

fn step_of(b: &Builder) -> f64 {
    b.settings.target.output_step()
}

/// `x` clamped to `[-sat, sat]` (two max gadgets against constants).
fn clamp(b: &mut Builder, name: &str, x: TensorId, sat: f64) -> TensorId {
    let q = QuantSettings::quantize(sat as f32, b.graph.scale(x));
    let x = bounded(b, &format!("{name}.clamp"), x, false, -q);
    bounded(b, &format!("{name}.clamp"), x, true, q)
}

/// `max(x, bound)` (or `min` with `min`) elementwise against the integer `bound` at `x`'s
/// scale: one max gadget with a window of two per element, named `name`.
pub(crate) fn bounded(b: &mut Builder, name: &str, x: TensorId, min: bool, bound: i64) -> TensorId {
    let shape = b.graph.shape(x).to_vec();
    let windows = (0..shape.iter().product::<usize>() as u32)
        .map(|i| vec![Cand::of(i), Cand::Const(bound)])
        .collect();
    let s = b.graph.scale(x);
    b.push(name, Op::Max(Max { min, windows }), vec![x], shape, s)
}

/// What a table must and may cover besides the calibrated range widened by the builder's
/// range margin ([`crate::QuantSettings::range_margin`]).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Bounds {
    /// Lower bound of the function's domain; above 0 it is open, and the table goes no
    /// lower than the smallest calibrated value divided by `(1 + 2·margin)²`.
    pub domain: Option<f64>,
    /// Bounds the input is known to respect (a clamp before the table, a softmax's shifted
    /// logits being at most 0): the table stops there.
    pub clip: Option<(f64, f64)>,
    /// An interval the table covers whatever the calibration saw.
    pub cover: Option<(f64, f64)>,
    /// The output's scale, where the op knows its range (a softmax's exps lie in [0, 1]):
    /// else the tensor's calibrated scale, or the model's default.
    pub out_scale: Option<i32>,
}

impl Bounds {
    /// Only a domain bound.
    pub fn domain(lower: f64) -> Self {
        Self {
            domain: Some(lower),
            ..Self::default()
        }
    }
}

/// `f(x)` elementwise through a table covering `x`'s calibrated range widened by the range
/// margin, within `bounds`; output at the activation scale.
pub(crate) fn tabulate(
    b: &mut Builder,
    name: &str,
    x: TensorId,
    function: &str,
    f: impl Fn(f64) -> f64,
    bounds: Bounds,
) -> Result<TensorId> {
    let x = b.at_act_scale(x, name);
    let s = b.graph.scale(x);
    let (clo, chi) = b.observed_range(x, name)?;
    let margin = b.range_margin();
    let pad = margin * (chi - clo).max(clo.abs().max(chi.abs())).max(2f64.powi(-s));
    let (mut lo, mut hi) = (clo - pad, chi + pad);
    if let Some((a, z)) = bounds.cover {
        (lo, hi) = (lo.min(a), hi.max(z));
    }
    // Never beyond what the input's range check lets through.
    let unit = 2f64.powi(-s);
    (lo, hi) = (
        lo.max(-ACT_BOUND as f64 * unit),
        hi.min((ACT_BOUND - 1) as f64 * unit),
    );
    if let Some((a, z)) = bounds.clip {
        (lo, hi) = (lo.max(a), hi.min(z));
    }
    if let Some(d) = bounds.domain {
        // Inside the domain: no lower than the smallest calibrated value over
        // (1 + 2·margin)² (a scale factor: a variance varies by factors between samples).
        lo = lo.max(if d > 0.0 {
            clo / (1.0 + 2.0 * margin).powi(2)
        } else {
            d
        });
        if d > 0.0 && lo <= 0.0 {
            return Err(crate::error::ImportError::UnsupportedAttribute {
                node: name.into(),
                op_type: function.into(),
                attribute: "input range".into(),
                value: format!("[{clo}, {chi}] reaches 0, where {function} is undefined"),
            });
        }
    }
    let act = bounds.out_scale.unwrap_or_else(|| b.scale_of(name));
    (lo, hi) = within_output_range(&f, (lo, hi), (clo, chi), act);
    // Finest table scale t <= s with (hi - lo)·2^t within the table bits, then coarser while
    // adjacent outputs stay within the target's output step.
    let mut t = s;
    let bits = b.settings.target.table_bits();
    while t > -16 && (hi - lo) * 2f64.powi(t) > f64::from(1u32 << bits) {
        t -= 1;
    }
    let max_step = |t: i32| {
        let (a, z) = (
            (lo * 2f64.powi(t)).floor() as i64,
            (hi * 2f64.powi(t)).ceil() as i64,
        );
        (a..z)
            .map(|q| (f((q + 1) as f64 / 2f64.powi(t)) - f(q as f64 / 2f64.powi(t))).abs())
            .fold(0.0, f64::max)
    };
    while t > -16 && max_step(t - 1) <= b.settings.target.output_step() {
        t -= 1;
    }
    let shape = b.graph.shape(x).to_vec();
    let in_min = (lo * 2f64.powi(t)).floor() as i64;
    let in_max = (hi * 2f64.powi(t)).ceil() as i64;
    let rescale = (t < s).then(|| Rescale {
        shift: (s - t) as u32,
    });
    let values = (in_min..=in_max)
        .map(|q| {
            let y = f(q as f64 / 2f64.powi(t));
            if y.is_finite() {
                (y * 2f64.powi(act)).round() as i64
            } else {
                0
            }
        })
        .collect();
    let lookup = Lookup {
        table: FnTable {
            function: function.into(),
            in_min,
            values,
            second: vec![],
        },
    };
    let elements = shape.iter().product();
    let table = (&lookup, rescale.as_ref());
    if let Some(op) = interpolation(b, function, &f, (lo, hi), (s, act), table, elements) {
        return Ok(b.push(name, Op::Interp(op), vec![x], shape, act));
    }
    let mut xt = x;
    if let Some(op) = rescale {
        // Where a rescale computes `x`, one rescale from its input straight to the table's
        // grid (the one to `x` is then laid out only if something else reads it).
        let (from, op) = match rescaled_from(b, x) {
            Some((u, r)) if r.shift + op.shift <= RANGE_BITS => (
                u,
                Rescale {
                    shift: r.shift + op.shift,
                },
            ),
            _ => (x, op),
        };
        let table_in = format!("{name}.table_in");
        xt = b.push(&table_in, Op::Rescale(op), vec![from], shape.clone(), t);
    }
    Ok(b.push(name, Op::Lookup(lookup), vec![xt], shape, act))
}

/// The input and rescale of `x` when a rescale computes it.
fn rescaled_from(b: &Builder, x: TensorId) -> Option<(TensorId, Rescale)> {
    let node = x
        .checked_sub(b.graph.inputs.len())
        .map(|n| &b.graph.nodes[n])?;
    match &node.op {
        Op::Rescale(r) => Some((node.inputs[0], r.clone())),
        _ => None,
    }
}

/// `[lo, hi]` without the margins where `|f|` leaves the range-checked interval at output
/// scale `act`: no output could follow there (`exp` grows past it fast). The calibrated
/// range `[clo, chi]` is kept whole; the cut ends are found by bisection, `f` being monotone
/// beyond the calibrated range for every function tabulated.
fn within_output_range(
    f: &impl Fn(f64) -> f64,
    (lo, hi): (f64, f64),
    (clo, chi): (f64, f64),
    act: i32,
) -> (f64, f64) {
    let limit = (ACT_BOUND - 1) as f64 * 2f64.powi(-act);
    let fits = |x: f64| f(x).abs() <= limit;
    let cut = |inside: f64, outside: f64| {
        if fits(outside) || !fits(inside) {
            return outside;
        }
        let (mut a, mut z) = (inside, outside);
        for _ in 0..64 {
            let m = 0.5 * (a + z);
            if fits(m) {
                a = m;
            } else {
                z = m;
            }
        }
        a
    };
    (cut(clo.max(lo), lo), cut(chi.min(hi), hi))
}

/// The segments interpolating `f` over `[lo, hi]` (input scale `s`, output scale `act`) for
/// `elements` inputs when the settings ask for them, or (in `Auto`) when they cost fewer
/// circuit rows than `table`, the lookup behind its rescale to the table's grid (none when
/// the input is on it already). Each costs its table rows ([`FnTable::rows`]) plus its
/// layout rows ([`Interp::rows_per_element`] per element; [`Lookup::rows`] and
/// [`Rescale::rows`]) in circuit rows ([`circuit_rows`]). The segments' error is within a
/// quarter of the target's output step.
fn interpolation(
    b: &Builder,
    function: &str,
    f: &dyn Fn(f64) -> f64,
    (lo, hi): (f64, f64),
    (s, act): (i32, i32),
    (lookup, rescale): (&Lookup, Option<&Rescale>),
    elements: usize,
) -> Option<Interp> {
    let mode = b.settings.nonlinear;
    if mode == Nonlinear::Table {
        return None;
    }
    let target = segments::Target {
        f,
        x_min: (lo * 2f64.powi(s)).floor() as i64,
        x_max: (hi * 2f64.powi(s)).ceil() as i64,
        in_scale: s,
        out_scale: act,
    };
    let tolerance = b.settings.target.output_step() / 4.0 * 2f64.powi(act);
    let max = 1usize << b.settings.target.table_bits();
    let op = target.fit(function, tolerance, max)?;
    if mode == Nonlinear::Interp {
        return Some(op);
    }
    // The lookup bounds the rescale's output, which then needs no range check of its own.
    let rescale_rows = |r: &Rescale| r.rows(Some(lookup.input_bits()));
    let table_rows = lookup.rows(elements) + rescale.map_or(0, rescale_rows) * elements;
    let segments = op.table.rows() + circuit_rows(op.rows_per_element() * elements);
    (segments < lookup.table.rows() + circuit_rows(table_rows)).then_some(op)
}

fn square(b: &mut Builder, node: &TypedNode, _: &ElementWiseOp) -> Result<()> {
    let x = b.tensor(node.inputs[0], &node.name)?;
    let x = b.at_act_scale(x, &node.name);
    let t = b.square(&node.name, x);
    b.bind(node, t);
    Ok(())
}
