//! Requantization of an integer accumulator to int8/uint8, exactly as onnxruntime computes it
//! (QLinearConv, QLinearMatMul, QGemm and the fused QDQ kernels, all through MLAS's
//! `MlasRequantizeOutput`):
//!
//! `y = clamp(nearbyint(f32(acc) ·f32 m), qmin − zp, qmax − zp) + zp`
//!
//! with `m` the float32 multiplier `a_scale·w_scale / y_scale`, the product rounded to float32
//! and `nearbyint` rounding half to even. That function is monotone in `acc`, so it is fixed
//! by its thresholds: `y = v` exactly when `T_v ≤ acc < T_(v+1)`. The circuit proves
//! `(y, lo, hi)` is an entry of a table (`lo = T_y`, `hi = T_(y+1) − 1`; one row per output
//! value) and range-checks `acc − lo` and `hi − acc` to `[0, 2^RANGE_BITS)`: exact for every
//! accumulator, float rounding included, with two rows per element. The outer buckets are closed at
//! `2^RANGE_BITS − 1` beyond the saturation threshold and at the int32 range (`i32::MIN`,
//! `i32::MAX`), where onnxruntime's accumulator ends; an accumulator further out is an error.

use super::{Elements, FnTable, OpImpl};
use crate::chip::{Ctx, Wire, RANGE_BITS};
use crate::error::{CircuitError, Result};
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// `y = clamp(round_half_even(f32(acc)·m_c), qmin − zp, qmax − zp) + zp` elementwise, with one
/// multiplier per channel `c`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Requant {
    /// Float32 multipliers, one per channel (one for per-tensor quantization); each positive.
    pub multipliers: Vec<f32>,
    /// Elements per channel run: element `i` belongs to channel `(i / inner) % channels`.
    pub inner: u32,
    /// Output zero point.
    pub zero_point: i32,
    /// Smallest output (`-128` for int8, `0` for uint8).
    pub qmin: i32,
    /// Largest output (`127` for int8, `255` for uint8).
    pub qmax: i32,
    /// Add the zero point in float32 before rounding, `round(f32(f32(acc)·m) + zp)`, as
    /// onnxruntime's QLinearMul does (also monotone, so proven the same way).
    #[serde(default, skip_serializing_if = "is_false")]
    pub float_zero_point: bool,
}

fn is_false(b: &bool) -> bool {
    !b
}

/// Smallest and largest accumulator onnxruntime's int32 arithmetic can hold.
const ACC_MIN: i64 = i32::MIN as i64;
const ACC_MAX: i64 = i32::MAX as i64;
/// Widest difference one range row proves.
const SPAN: i64 = (1 << RANGE_BITS) - 1;

/// onnxruntime's requantization of one accumulator (the single definition of it).
pub fn requantize(acc: i64, multiplier: f32, zero_point: i32, qmin: i32, qmax: i32) -> i64 {
    let lo = (qmin - zero_point) as f32;
    let hi = (qmax - zero_point) as f32;
    let v = ((acc as f32) * multiplier).max(lo).min(hi);
    v.round_ties_even() as i64 + i64::from(zero_point)
}

/// QLinearMul's requantization: `clamp(round_half_even(f32(f32(acc)·m) + zp))`.
pub fn requantize_float_zp(
    acc: i64,
    multiplier: f32,
    zero_point: i32,
    qmin: i32,
    qmax: i32,
) -> i64 {
    let v = ((acc as f32) * multiplier + zero_point as f32).round_ties_even();
    v.clamp(qmin as f32, qmax as f32) as i64
}

impl Requant {
    /// The output for accumulator `acc` of channel `c`.
    fn apply(&self, acc: i64, c: usize) -> i64 {
        let m = self.multipliers[c];
        if self.float_zero_point {
            requantize_float_zp(acc, m, self.zero_point, self.qmin, self.qmax)
        } else {
            requantize(acc, m, self.zero_point, self.qmin, self.qmax)
        }
    }

    /// The channel of flat element `i`.
    pub(crate) fn channel(&self, i: usize) -> usize {
        (i / self.inner.max(1) as usize) % self.multipliers.len()
    }

    fn check_params(&self, node: &str) -> Result<()> {
        let bad = |reason: String| {
            Err(CircuitError::MalformedGraph {
                node: node.into(),
                reason,
            })
        };
        if self.multipliers.is_empty() || self.inner == 0 {
            return bad("requantization without multipliers".into());
        }
        if let Some(m) = self
            .multipliers
            .iter()
            .find(|m| !(m.is_finite() && **m > 0.0))
        {
            return bad(format!("requantization multiplier {m} is not positive"));
        }
        if !(self.qmin <= self.zero_point && self.zero_point <= self.qmax && self.qmin < self.qmax)
        {
            return bad(format!(
                "zero point {} outside [{}, {}]",
                self.zero_point, self.qmin, self.qmax
            ));
        }
        Ok(())
    }

    /// The table of channel `c`: for each output `v`, the accumulators that give `v` are
    /// exactly `[lo(v), hi(v)]` (`values` and `second`; outer buckets closed at one range
    /// row's width).
    pub fn table(&self, c: usize) -> FnTable {
        let m = self.multipliers[c];
        let f = |acc: i64| self.apply(acc, c);
        // thresholds[k] = smallest acc with f(acc) ≥ qmin + k, for k = 1..=qmax − qmin.
        let first = |v: i64| {
            let (mut lo, mut hi) = (ACC_MIN, ACC_MAX + 1);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if f(mid) >= v {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            lo
        };
        let n = (self.qmax - self.qmin) as usize + 1;
        let t: Vec<i64> = (1..n)
            .map(|k| first(i64::from(self.qmin) + k as i64))
            .collect();
        let mut lo = Vec::with_capacity(n);
        let mut hi = Vec::with_capacity(n);
        // The outer buckets close at one range row's width past the saturation threshold,
        // and never past the int32 range: onnxruntime has no accumulator beyond it (its
        // arithmetic would wrap), so neither does the table.
        for k in 0..n {
            hi.push(t.get(k).map_or((t[n - 2] + SPAN).min(ACC_MAX), |t| t - 1));
            lo.push(if k == 0 {
                (t[0] - SPAN).max(ACC_MIN)
            } else {
                t[k - 1]
            });
        }
        FnTable {
            function: format!(
                "requant(m={:e}, zp={}{}, [{}, {}])",
                m,
                self.zero_point,
                if self.float_zero_point {
                    " in float"
                } else {
                    ""
                },
                self.qmin,
                self.qmax
            ),
            in_min: i64::from(self.qmin),
            values: lo,
            second: hi,
        }
    }

    /// Every table this op looks up.
    pub fn all_tables(&self) -> Vec<FnTable> {
        (0..self.multipliers.len()).map(|c| self.table(c)).collect()
    }
}

impl OpImpl for Requant {
    fn bound(&self, _inputs: &[f64]) -> f64 {
        f64::from(self.qmin.unsigned_abs().max(self.qmax.unsigned_abs()))
    }

    fn bounds_input(&self, elements: Elements, _output_checked: Option<u32>) -> Option<u32> {
        // `acc − lo` and `hi − acc` are range-checked to `[0, 2^24)`, with `(lo, hi)` an entry
        // of a table whose thresholds lie in the int32 range: `|acc| ≤ 2^31`.
        elements.elementwise(33)
    }

    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor> {
        self.check_params(node)?;
        let tables = self.all_tables();
        let mut data = Vec::with_capacity(inputs[0].len());
        for (index, acc) in inputs[0].data.iter().enumerate() {
            let c = self.channel(index);
            let acc64 = i64::try_from(*acc).unwrap_or(i64::MAX);
            let y = self.apply(acc64, c);
            let k = (y - i64::from(self.qmin)) as usize;
            let (lo, hi) = (tables[c].values[k], tables[c].second[k]);
            let inside = (ACC_MIN..=ACC_MAX).contains(&acc64) && lo <= acc64 && acc64 <= hi;
            if !inside || acc64 - lo > SPAN || hi - acc64 > SPAN {
                return Err(CircuitError::ValueOutOfRange {
                    node: node.into(),
                    index,
                    value: *acc,
                    min: i128::from(lo.max(ACC_MIN)),
                    max: i128::from(hi.min(ACC_MAX)),
                    scale: None,
                });
            }
            data.push(i128::from(y));
        }
        Ok(Tensor::new(out_shape.to_vec(), data))
    }

    fn check(&self, node: &str) -> Result<()> {
        self.check_params(node)
    }

    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], out: &Tensor) -> Vec<Wire> {
        let tables = self.all_tables();
        inputs[0]
            .iter()
            .zip(&out.data)
            .enumerate()
            .map(|(i, (acc, y))| {
                let table = &tables[self.channel(i)];
                if ctx.is_wide() {
                    // The same constraints in 12 cells (`RequantUnit`).
                    ctx.requant_unit(&[acc], acc.value, *y, table)
                } else {
                    ctx.requant(acc, *y, table)
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(m: f32, zp: i32) -> Requant {
        Requant {
            multipliers: vec![m],
            inner: 1,
            zero_point: zp,
            qmin: -128,
            qmax: 127,
            float_zero_point: false,
        }
    }

    #[test]
    fn rounds_half_to_even_and_saturates() {
        assert_eq!(requantize(5, 0.5, 0, -128, 127), 2); // 2.5 -> 2
        assert_eq!(requantize(7, 0.5, 0, -128, 127), 4); // 3.5 -> 4
        assert_eq!(requantize(-5, 0.5, 0, -128, 127), -2);
        assert_eq!(requantize(1_000_000, 0.5, 3, -128, 127), 127);
        assert_eq!(requantize(-1_000_000, 0.5, 3, -128, 127), -128);
        assert_eq!(requantize(-1_000_000, 0.5, 3, 0, 255), 0);
    }

    #[test]
    fn buckets_partition_the_accumulators() {
        let r = op(0.003_921_57, -7);
        let t = r.table(0);
        let (lo, hi) = (&t.values, &t.second);
        for k in 0..256 {
            assert!(lo[k] <= hi[k] + 1, "bucket {k}");
            if k > 0 {
                assert_eq!(lo[k], hi[k - 1] + 1);
            }
        }
        for acc in (-40_000..40_000).step_by(7) {
            let y = requantize(acc, 0.003_921_57, -7, -128, 127);
            let k = (y + 128) as usize;
            assert!(lo[k] <= acc && acc <= hi[k], "acc {acc} y {y}");
        }
    }

    #[test]
    fn accumulator_beyond_the_outer_bucket_is_an_error() {
        let r = op(0.5, 0);
        let far = Tensor::new(vec![1], vec![-(1 << 26)]);
        assert!(matches!(
            r.eval("q", &[&far], &[1]),
            Err(CircuitError::ValueOutOfRange { .. })
        ));
        let near = Tensor::new(vec![1], vec![-300]);
        assert_eq!(r.eval("q", &[&near], &[1]).unwrap().data, vec![-128]);
    }
}
