//! Rescale shifts aligned to the limb width: `Rescale_s(Linear(u))` with `s` not a multiple
//! of 8 becomes `Rescale_{s+e}(Linear·2^e(u))`, `s + e` the next multiple of 8.
//!
//! A rescale's remainder `r ∈ [0, 2^s)` is range-checked in 8-bit limbs: where `s` is a
//! multiple of 8 that is one range row, otherwise two (`r` and `2^s − 1 − r`, `Ctx::rescale`).
//! Multiplying the dense layer's weights and bias by `2^e` makes its output `2^e·x` exactly
//! (the same values at `e` more fractional bits), and `round(2^e·x / 2^(s+e)) = round(x /
//! 2^s)`: the rescale's output is the same, element for element, in one range row instead
//! of two. GELU's rescale into its table's grid (by 2^23 from a dense layer's 2^32) is the
//! case it is for: 6 cells per element instead of 12.
//!
//! It applies where the layer is read by that rescale alone (and is no graph output), holds
//! fixed-point (not affine) values, its scaled weights and bias fit in 64 bits, and the
//! larger values keep what the layout relies on: in the wide layout, a layer whose outputs
//! are bounded below `2^WIDE_BOUND_BITS` by the rescale (and so packed without checks of their
//! own) stays so bounded, with its true values below a quarter of that.

use zkinfer_circuits::chip::{LIMB_BITS, RANGE_BITS, WIDE_BOUND_BITS};
use zkinfer_circuits::ops::Op;
use zkinfer_circuits::Graph;

/// Aligns every rescale shift it can (see the [module docs](self)); returns how many.
pub(crate) fn align_rescale_shifts(graph: &mut Graph) -> usize {
    let n_in = graph.inputs.len();
    let checked = graph.checked_bits();
    let bounds = graph.bounds();
    let mut readers = vec![0usize; n_in + graph.nodes.len()];
    for node in &graph.nodes {
        node.inputs.iter().for_each(|t| readers[*t] += 1);
    }
    let mut aligned = 0;
    for n in 0..graph.nodes.len() {
        let Op::Rescale(r) = &graph.nodes[n].op else {
            continue;
        };
        let e = r.shift.next_multiple_of(LIMB_BITS) - r.shift;
        let t = graph.nodes[n].inputs[0];
        let Some(m) = t.checked_sub(n_in) else {
            continue;
        };
        let scaled = |v: i64| v.checked_mul(1 << e);
        let fits = match &graph.nodes[m].op {
            Op::Linear(l) => l.rows.iter().all(|row| {
                scaled(row.bias).is_some() && row.terms.iter().all(|(_, w)| scaled(*w).is_some())
            }),
            _ => false,
        };
        // What the wide layout relies on for the layer's outputs (unchanged in the tall one,
        // where the bound only has to stay far below the field's size).
        let bound = bounds[t] * f64::from(1u32 << e);
        let keeps_packing = match checked[m] {
            Some(b) if b <= WIDE_BOUND_BITS => {
                b + e <= WIDE_BOUND_BITS && bound < 2f64.powi(WIDE_BOUND_BITS as i32 - 2)
            }
            _ => bound < 2f64.powi(200),
        };
        let alone = readers[t] == 1 && !graph.outputs.contains(&t);
        if e == 0
            || r.shift + e > RANGE_BITS
            || !fits
            || !keeps_packing
            || !alone
            || graph.affine(t).is_some()
        {
            continue;
        }
        let Op::Linear(l) = &mut graph.nodes[m].op else {
            unreachable!("checked above")
        };
        for row in &mut l.rows {
            row.bias <<= e;
            row.terms.iter_mut().for_each(|(_, w)| *w <<= e);
        }
        graph.nodes[m].scale += e as i32;
        if let Op::Rescale(r) = &mut graph.nodes[n].op {
            r.shift += e;
        }
        aligned += 1;
    }
    aligned
}

#[cfg(test)]
mod tests {
    use super::align_rescale_shifts;
    use crate::test_graph::linear_then_rescale;
    use zkinfer_circuits::ops::{AffineRow, Op, Rescale};
    use zkinfer_circuits::Graph;

    fn graph(shift: u32, weight: i64) -> Graph {
        let rows = vec![
            AffineRow {
                bias: 3,
                terms: vec![(0, weight), (1, -7)],
            },
            AffineRow {
                bias: -1,
                terms: vec![(1, 1 << 20)],
            },
        ];
        linear_then_rescale(rows, (32, shift))
    }

    #[test]
    fn a_shift_of_23_becomes_24_with_the_same_outputs() {
        let before = graph(23, 12_345);
        let mut after = before.clone();
        assert_eq!(align_rescale_shifts(&mut after), 1);
        assert_eq!(after.nodes[1].op, Op::Rescale(Rescale { shift: 24 }));
        assert_eq!(after.nodes[0].scale, 33);
        assert_eq!(after.nodes[1].scale, 9);
        for x in [
            [0, 0],
            [1 << 22, -(1 << 22)],
            [-123_456, 654_321],
            [(1 << 23) - 1, -1],
        ] {
            let out = |g: &Graph| g.eval(&[x.to_vec()]).unwrap()[2].data.clone();
            assert_eq!(out(&before), out(&after), "{x:?}");
        }
    }

    #[test]
    fn leaves_aligned_shifts_and_weights_that_would_overflow() {
        let mut g = graph(16, 12_345);
        assert_eq!(align_rescale_shifts(&mut g), 0);
        let mut g = graph(20, i64::MAX / 4);
        assert_eq!(align_rescale_shifts(&mut g), 0);
        // A second reader of the layer keeps it as it is.
        let mut g = graph(23, 12_345);
        g.outputs.push(1);
        assert_eq!(align_rescale_shifts(&mut g), 0);
    }
}
