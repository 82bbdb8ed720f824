//! Nonlinear elementwise functions (Sigmoid, Tanh, Exp, Ln, Erf, Sqrt, Rsqrt, Recip, Gelu,
//! PowConst, …) as lookup tables or interpolated segments sized to the calibrated input range,
//! and Square by the linear gate's product term.
//!
//! Both forms cover the input's calibrated range widened on each side by the range margin
//! ([`crate::QuantSettings::range_margin`]; by default [`crate::range_margin_for`] the number
//! of calibration samples), and odd saturating functions cover it on both sides of 0.
//! A table rescales the input to the finest scale at which that range fits the target's table
//! bits ([`crate::Target::table_bits`]), then as coarse as keeps adjacent outputs within the
//! target's output step, and tabulates `round(f(x)·2^act_scale)` at every grid point: one
//! row per element behind the rescale, plus a table row per entry. Segments
//! ([`zkinfer_circuits::ops::Interp`], fitted in [`super::segments`]) decompose the input
//! itself: 3–4 rows per element and a table row per segment. [`Nonlinear`] picks the form;
//! `Auto` compares the row counts node by node.

use super::{segments, unsupported, BuildFn};
use crate::error::Result;
use crate::quantize::{Builder, Nonlinear, QuantSettings};
use std::collections::HashMap;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::element_wise::ElementWiseOp;
use tract_onnx::tract_core::ops::math::PowConst;
use zkinfer_circuits::chip::{ACT_BOUND, BLOCK};
use zkinfer_circuits::ops::{Cand, FnTable, Interp, Lookup, Max, Op, Rescale};

pub(crate) fn register(reg: &mut HashMap<&'static str, BuildFn>) {
    for name in [
        "Sigmoid",
        "Tanh",
        "Exp",
        "Ln",
        "Erf",
        "Sqrt",
        "Rsqrt",
        "Recip",
        "GeluExact",
        "GeluApproximate",
        "PowConst",
        "Silu",
        "Sin",
        "Cos",
    ] {
        reg.insert(name, unary);
    }
    reg.insert("Square", square);
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
        sum * 2.0 / std::f64::consts::PI.sqrt()
    } else {
        // erfc continued fraction (Lentz), accurate to ~1e-12 for |x| >= 2.5.
        let z = x.abs();
        let mut f = z;
        for k in (1..60).rev() {
            f = z + (k as f64 / 2.0) / f;
        }
        let erfc = (-z * z).exp() / (f * std::f64::consts::PI.sqrt());
        (1.0 - erfc) * x.signum()
    }
}

/// A real function of one variable.
type RealFn = Box<dyn Fn(f64) -> f64>;

/// The float function a tract element-wise op computes, with its domain's lower bound.
fn function(node: &TypedNode) -> Result<(String, RealFn, Option<f64>)> {
    let ew = node
        .op_as::<ElementWiseOp>()
        .expect("registered for element-wise ops");
    let name = ew.0.name().to_string();
    let f: RealFn = match name.as_str() {
        "Sigmoid" => Box::new(|x| 1.0 / (1.0 + (-x).exp())),
        "Tanh" => Box::new(f64::tanh),
        "Exp" => Box::new(f64::exp),
        "Ln" => Box::new(f64::ln),
        "Erf" => Box::new(erf),
        "Sqrt" => Box::new(f64::sqrt),
        "Rsqrt" => Box::new(|x| 1.0 / x.sqrt()),
        "Recip" => Box::new(|x| 1.0 / x),
        "Sin" => Box::new(f64::sin),
        "Cos" => Box::new(f64::cos),
        "Silu" => Box::new(|x| x / (1.0 + (-x).exp())),
        "GeluExact" => Box::new(|x| 0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2))),
        "GeluApproximate" => Box::new(|x| {
            0.5 * x
                * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x.powi(3))).tanh())
        }),
        "PowConst" => {
            let p = f64::from(ew.0.downcast_ref::<PowConst>().expect("PowConst").exponent);
            Box::new(move |x| x.powf(p))
        }
        other => return Err(unsupported(node, "function", other)),
    };
    // Lower bound of the domain: open at 0 for these, closed at 0 for Sqrt.
    let domain = match name.as_str() {
        "Ln" | "Rsqrt" | "Recip" => Some(f64::MIN_POSITIVE),
        "Sqrt" => Some(0.0),
        _ => None,
    };
    Ok((name.to_lowercase(), f, domain))
}

/// Where a saturating function is within half an output `step` of its asymptotes: inputs
/// beyond are clamped (max gadget) instead of tabulated. (`1 − σ(x) < e^-x`,
/// `1 − tanh(x) < 2e^-2x`, `erfc(2.75) = 1.0e-4`.)
fn saturation(function: &str, step: f64) -> Option<f64> {
    match function {
        "sigmoid" => Some((2.0 / step).ln().ceil().max(8.0)),
        "tanh" => Some(((0.5 * (4.0 / step).ln() * 4.0).ceil() / 4.0).max(4.5)),
        "erf" => Some(2.75),
        _ => None,
    }
}

fn unary(b: &mut Builder, node: &TypedNode) -> Result<()> {
    let (name, f, domain) = function(node)?;
    let x = b.tensor(node.inputs[0], &node.name)?;
    let mut x = b.at_act_scale(x, &node.name);
    let mut bounds = Bounds {
        domain,
        ..Bounds::default()
    };
    if let Some(sat) = saturation(&name, step_of(b)) {
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
    let out = tabulate(b, &node.name, x, &name, f, bounds)?;
    b.bind(node, out);
    Ok(())
}

fn step_of(b: &Builder) -> f64 {
    b.settings.target.output_step()
}

/// `x` clamped to `[-sat, sat]` (two max gadgets against constants).
fn clamp(b: &mut Builder, name: &str, mut x: usize, sat: f64) -> usize {
    let s = b.graph.scale(x);
    let q = QuantSettings::quantize(sat as f32, s);
    let shape = b.graph.shape(x).to_vec();
    for (min, bound) in [(false, -q), (true, q)] {
        let windows = (0..shape.iter().product::<usize>() as u32)
            .map(|i| vec![Cand::of(i), Cand::Const(bound)])
            .collect();
        x = b.push(
            &format!("{name}.clamp"),
            Op::Max(Max { min, windows }),
            vec![x],
            shape.clone(),
            s,
        );
    }
    x
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
}

impl Bounds {
    /// Only a domain bound.
    pub fn domain(lower: f64) -> Self {
        Self {
            domain: Some(lower),
            ..Self::default()
        }
    }

    /// Only known bounds of the input.
    pub fn clip(lo: f64, hi: f64) -> Self {
        Self {
            clip: Some((lo, hi)),
            ..Self::default()
        }
    }
}

/// `f(x)` elementwise through a table covering `x`'s calibrated range widened by the range
/// margin, within `bounds`; output at the activation scale.
pub(crate) fn tabulate(
    b: &mut Builder,
    name: &str,
    x: usize,
    function: &str,
    f: impl Fn(f64) -> f64,
    bounds: Bounds,
) -> Result<usize> {
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
    (lo, hi) = within_output_range(&f, (lo, hi), (clo, chi), b.scale_of(name));
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
    let act = b.scale_of(name);
    let in_min = (lo * 2f64.powi(t)).floor() as i64;
    let in_max = (hi * 2f64.powi(t)).ceil() as i64;
    let grid = (t, in_max - in_min + 1);
    let elements = shape.iter().product();
    if let Some(op) = interpolation(b, function, &f, (lo, hi), (s, act), grid, elements) {
        return Ok(b.push(name, Op::Interp(op), vec![x], shape, act));
    }
    let mut xt = x;
    if t < s {
        let op = Op::Rescale(Rescale {
            shift: (s - t) as u32,
        });
        xt = b.push(&format!("{name}.table_in"), op, vec![x], shape.clone(), t);
    }
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
    let table = FnTable {
        function: function.into(),
        in_min,
        values,
        second: vec![],
    };
    Ok(b.push(name, Op::Lookup(Lookup { table }), vec![xt], shape, act))
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
/// circuit rows than the table of `entries` entries at grid `t`: a table costs its entries
/// plus, per element, the lookup and the rescale to its grid (2 or 3 layout rows unless
/// `t = s`); segments cost their table (two outputs: twice their count) plus
/// [`Interp::rows_per_element`] layout rows per element. A layout row is
/// [`BLOCK`] circuit rows. Their error is within a quarter of the target's output step.
fn interpolation(
    b: &Builder,
    function: &str,
    f: &dyn Fn(f64) -> f64,
    (lo, hi): (f64, f64),
    (s, act): (i32, i32),
    (t, entries): (i32, i64),
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
    let table_per = match s - t {
        0 => 1,
        shift if shift % 8 == 0 => 3,
        _ => 4,
    };
    let interp_per = op.rows_per_element() as i64;
    let interp_table = (op.segments() * (1 + usize::from(op.table.has_second()))) as i64;
    let cost = |fixed: i64, per: i64| fixed + per * (BLOCK * elements) as i64;
    (cost(interp_table, interp_per) < cost(entries, table_per)).then_some(op)
}

fn square(b: &mut Builder, node: &TypedNode) -> Result<()> {
    let x = b.tensor(node.inputs[0], &node.name)?;
    let x = b.at_act_scale(x, &node.name);
    let t = b.square(&node.name, x);
    b.bind(node, t);
    Ok(())
}
