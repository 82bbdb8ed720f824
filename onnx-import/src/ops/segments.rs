//! Fitting a real function with the segments of [`Interp`]: the widest power-of-two segment
//! whose measured error stays within a tolerance.
//!
//! Over segment `h` (inputs `x_h … x_h + 2^B − 1` at the input scale) the line has the chord's
//! slope and the intercept that centres the residuals (a minimax line for that slope), both
//! scaled by `2^OUT_SHIFT` and rounded. The error is measured on the integers of the segment
//! (every one, or 64 evenly spaced plus both ends when the segment is wider), before the
//! final rounding of the output, which adds at most half an output unit.

use zkinfer_circuits::chip::RANGE_BITS;
use zkinfer_circuits::ops::{FnTable, Interp};

/// The coefficients' scale: the whole remainder is one range row.
pub const OUT_SHIFT: u32 = RANGE_BITS;

/// Samples per segment when a segment is wider than this.
const SAMPLES: i64 = 64;

/// What to fit: `f` on integer inputs `x_min..=x_max` at scale `2^in_scale`, outputs at
/// `2^out_scale`.
pub(crate) struct Target<'f> {
    /// The function.
    pub f: &'f dyn Fn(f64) -> f64,
    /// Smallest input (integer at the input scale).
    pub x_min: i64,
    /// Largest input.
    pub x_max: i64,
    /// Input scale exponent.
    pub in_scale: i32,
    /// Output scale exponent.
    pub out_scale: i32,
}

impl Target<'_> {
    /// `f` at the integer input `x`, in output units.
    fn at(&self, x: i64) -> f64 {
        (self.f)(x as f64 / 2f64.powi(self.in_scale)) * 2f64.powi(self.out_scale)
    }

    /// The segments of width `2^bits`, their error at most `tolerance` output units; `None`
    /// (as soon as one segment shows it) when the error is larger or a coefficient is not
    /// finite or too large.
    fn segments(&self, bits: u32, tolerance: f64) -> Option<(Vec<i64>, Vec<i64>)> {
        let width = 1i64 << bits;
        let count = (self.x_max - self.x_min) / width + 1;
        let r = 2f64.powi(OUT_SHIFT as i32);
        let (mut e, mut d) = (vec![], vec![]);
        for h in 0..count {
            let xa = self.x_min + h * width;
            let slope = (self.at(xa + width) - self.at(xa)) / width as f64;
            let dh = (slope * r).round();
            let last = (xa + width - 1).min(self.x_max);
            let stride = ((last - xa) / SAMPLES).max(1);
            let xs = (xa..=last).step_by(stride as usize).chain([last]);
            // Residuals in the segment's own coordinate (exact enough in f64), then the
            // intercept moved to the global coordinate in integers.
            let res: Vec<f64> = xs.map(|x| self.at(x) * r - (x - xa) as f64 * dh).collect();
            let (lo, hi) = res
                .iter()
                .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
            let local = ((lo + hi) / 2.0).round();
            let limit = 2f64.powi(62);
            if !(dh.is_finite() && local.is_finite()) || dh.abs() >= limit || local.abs() >= limit {
                return None;
            }
            let eh = local as i128 - i128::from(xa) * dh as i128;
            let eh = i64::try_from(eh).ok()?;
            if ((hi - lo) / 2.0 + 1.0) / r > tolerance {
                return None;
            }
            e.push(eh);
            d.push(dh as i64);
        }
        Some((e, d))
    }

    /// The widest segments (at most `max_segments` of them) whose error is at most
    /// `tolerance` output units; `None` when even single-input segments exceed the budget.
    pub fn fit(&self, function: &str, tolerance: f64, max_segments: usize) -> Option<Interp> {
        let span = (self.x_max - self.x_min + 1).max(1) as u64;
        let widest = (63 - span.leading_zeros()).min(RANGE_BITS);
        for bits in (0..=widest).rev() {
            let count = ((span - 1) >> bits) + 1;
            if count > max_segments as u64 {
                return None;
            }
            if let Some((values, second)) = self.segments(bits, tolerance) {
                return Some(Interp {
                    table: FnTable {
                        function: format!("{function} (segments)"),
                        in_min: 0,
                        values,
                        second,
                    },
                    x_min: self.x_min,
                    seg_bits: bits,
                    out_shift: OUT_SHIFT,
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn fitted_sigmoid_stays_within_tolerance_on_every_input() {
        let f = |x: f64| 1.0 / (1.0 + (-x).exp());
        let t = Target {
            f: &f,
            x_min: -8 << 12,
            x_max: 8 << 12,
            in_scale: 12,
            out_scale: 14,
        };
        let tol = 4.0; // output units: 2^-12
        let op = t.fit("sigmoid", tol, 1 << 14).expect("fits");
        assert!(op.segments() < 256, "{} segments", op.segments());
        for x in t.x_min..=t.x_max {
            let y = op.apply(i128::from(x)).unwrap() as f64;
            let err = (y - t.at(x)).abs();
            assert!(err <= tol + 0.5, "x {x}: error {err}");
        }
    }

    #[test]
    fn no_fit_within_too_few_segments() {
        let f = f64::exp;
        let t = Target {
            f: &f,
            x_min: 0,
            x_max: 1 << 16,
            in_scale: 12,
            out_scale: 4,
        };
        assert!(t.fit("exp", 0.01, 4).is_none());
    }
}
