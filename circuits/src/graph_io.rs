//! A graph's inputs and outputs as real numbers: quantizing float inputs to the integers the
//! circuit takes, and dequantizing its integer outputs.

use crate::chip::ACT_BOUND;
use crate::error::{CircuitError, Result};
use crate::graph::{Affine, Graph};

impl Graph {
    /// Quantizes float inputs (one flat vector per graph input): fixed point at the input's
    /// scale (a value beyond the range-checked interval is an error), a pre-quantized
    /// model's QuantizeLinear (saturating, as the model itself does), or an integer input
    /// taken exactly (a non-integer or a value beyond its type is an error). Wrong counts,
    /// lengths and non-finite values are errors naming the input.
    pub fn quantize_inputs(&self, inputs: &[Vec<f32>]) -> Result<Vec<Vec<i128>>> {
        self.check_lengths(inputs)?;
        let mut out = Vec::with_capacity(inputs.len());
        for (decl, vals) in self.inputs.iter().zip(inputs) {
            let mut q = Vec::with_capacity(vals.len());
            for (index, v) in vals.iter().enumerate() {
                if !v.is_finite() {
                    return Err(CircuitError::NonFiniteInput {
                        input: decl.name.clone(),
                        index,
                        value: *v,
                    });
                }
                let (x, min, max, scale) = match decl.affine {
                    Some(a) if !a.exact => (a.quantize(*v) as f64, a.min as f64, a.max as f64, 1.0),
                    Some(a) => (f64::from(*v), a.min as f64, a.max as f64, 1.0),
                    None => {
                        let scale = 2f64.powi(decl.scale);
                        let x = (f64::from(*v) * scale).round();
                        (x, -ACT_BOUND as f64, (ACT_BOUND - 1) as f64, scale)
                    }
                };
                if x < min || x > max || x.fract() != 0.0 {
                    return Err(CircuitError::InputOutOfRange {
                        input: decl.name.clone(),
                        index,
                        value: *v,
                        min: min / scale,
                        max: max / scale,
                        scale: decl.scale,
                    });
                }
                q.push(x as i128);
            }
            out.push(q);
        }
        Ok(out)
    }

    /// Dequantizes the graph's flattened integer outputs to real numbers.
    pub fn dequantize_outputs(&self, ints: &[i64]) -> Vec<f64> {
        let per_element: Vec<(i32, Option<Affine>)> = self
            .outputs
            .iter()
            .flat_map(|o| {
                let n: usize = self.shape(*o).iter().product();
                std::iter::repeat_n((self.scale(*o), self.affine(*o)), n)
            })
            .collect();
        ints.iter()
            .zip(per_element)
            .map(|(v, (s, affine))| match affine {
                Some(a) => f64::from(a.dequantize(*v)),
                None => *v as f64 / 2f64.powi(s),
            })
            .collect()
    }
}
