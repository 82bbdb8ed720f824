//! Masked softmax inputs: the elements an additive mask (a causal attention's `-1e4` above
//! the diagonal) puts so far below their group's maximum that their exponential rounds to
//! zero, whatever the model's input.
//!
//! The softmax leaves them out (its max, exponentials, sum and products cover the other
//! elements; its output holds the constant 0 for them), the attention's second product drops
//! the terms they multiply, and `Graph::compact_dead_elements` then removes the scores
//! computing them, which nothing reads any more. The bounds are those the circuit enforces
//! (`Graph::bounds`: range checks of rescaled values), so for every input in range the masked
//! elements' exponentials would round to 0, as float inference makes them (the floor that
//! clamped them before could leave one unit at the exponentials' scale where it rounded up).
//! They are judged while the graph is built, and judged again once it is
//! ([`Masking::holds`]): a later reader that bounds a score rescale lets it leave its range
//! check to that reader, which may loosen the bounds.

use crate::error::{ImportError, Result};
use crate::quantize::Builder;
use zkinfer_circuits::ops::{Cand, Gather, Op};
use zkinfer_circuits::{Graph, TensorId};

/// The elements of a softmax's input it runs over: all but the masked ones.
pub(super) struct Live {
    /// Their indices in the input, in order.
    pub live: Vec<u32>,
    /// Where each input element is among them (`None`: masked).
    pub at: Vec<Option<u32>>,
    /// Each group's elements, as positions among them.
    pub groups: Vec<Vec<u32>>,
    /// The group of each of them.
    pub of: Vec<u32>,
}

/// The elements of softmax `name`'s input `x` (its `groups`, and the group `of` each
/// element) that are not [`masked`], recording the masking for [`Masking::holds`].
pub(super) fn live_elements(
    b: &mut Builder,
    name: &str,
    x: TensorId,
    (groups, of): (&[Vec<u32>], &[u32]),
    exp_scale: i32,
) -> Live {
    let dead = masked(&b.graph, x, groups, exp_scale);
    if dead.contains(&true) {
        b.maskings.push(Masking {
            node: name.to_string(),
            x,
            groups: groups.to_vec(),
            exp_scale,
            dead: dead.clone(),
        });
    }
    let live: Vec<u32> = (0..of.len() as u32)
        .filter(|i| !dead[*i as usize])
        .collect();
    let mut at = vec![None; of.len()];
    for (k, i) in live.iter().enumerate() {
        at[*i as usize] = Some(k as u32);
    }
    let groups = groups
        .iter()
        .map(|g| g.iter().filter_map(|i| at[*i as usize]).collect())
        .collect();
    let of = live.iter().map(|i| of[*i as usize]).collect();
    Live {
        live,
        at,
        groups,
        of,
    }
}

/// The softmax's output at its input's `shape`: the elements computed in `y` (their
/// positions `at`) and the constant 0 for the masked ones.
pub(super) fn with_masked_zeros(
    b: &mut Builder,
    name: &str,
    y: TensorId,
    at: &[Option<u32>],
    shape: Vec<usize>,
) -> TensorId {
    let items = at
        .iter()
        .map(|k| k.map_or(Cand::Const(0), Cand::of))
        .collect();
    let scale = b.graph.scale(y);
    b.push(name, Op::Gather(Gather { items }), vec![y], shape, scale)
}

/// A softmax that left masked elements out: what [`masked`] was given and what it found.
pub(crate) struct Masking {
    /// The softmax's node, for the error.
    pub node: String,
    /// Its input, its groups and its exponentials' scale.
    pub x: TensorId,
    pub groups: Vec<Vec<u32>>,
    pub exp_scale: i32,
    /// The elements left out.
    pub dead: Vec<bool>,
}

impl Masking {
    /// Checks, on the whole graph (every reader in place), that each element left out is
    /// still masked by the bounds the circuit enforces.
    pub fn holds(&self, graph: &Graph) -> Result<()> {
        let now = masked(graph, self.x, &self.groups, self.exp_scale);
        match self.dead.iter().zip(&now).position(|(was, is)| *was && !is) {
            None => Ok(()),
            Some(i) => Err(ImportError::UnsupportedAttribute {
                node: self.node.clone(),
                op_type: "Softmax".into(),
                attribute: "masked input".into(),
                value: format!(
                    "element {i} was left out as masked, but a later reader of the scores \
                     loosens the bounds that showed its exponential rounds to 0"
                ),
            }),
        }
    }
}

/// Which elements of the softmax input `x` (at scale `scale`, reduced over `groups`) are
/// masked: an element whose upper bound lies more than `ln 2^-(exp_scale+1) − 1` below the
/// largest lower bound in its group. `exp(x_i − max)` is then below `2^-(exp_scale+1)/e` and
/// rounds to 0 at the exponentials' scale `exp_scale`. The element holding that largest lower
/// bound is never masked, so every group keeps one.
pub(super) fn masked(graph: &Graph, x: TensorId, groups: &[Vec<u32>], exp_scale: i32) -> Vec<bool> {
    let bounds = graph.bounds();
    let elem = element_bounds(graph, x, &bounds);
    let floor = (0.5f64.powi(exp_scale + 1)).ln() - 1.0;
    let unit = 2f64.powi(graph.scale(x));
    let mut dead = vec![false; elem.len()];
    for group in groups {
        let top = group
            .iter()
            .map(|i| elem[*i as usize].0)
            .fold(f64::NEG_INFINITY, f64::max);
        for i in group {
            dead[*i as usize] = (elem[*i as usize].1 - top) / unit < floor;
        }
    }
    dead
}

/// Bounds `(lo, hi)` on each element of tensor `t`, from its producer where that is an
/// affine map or a rescale of one (per-row constants, such as a mask, give per-element
/// bounds), else the tensor's bound (`bounds`, [`Graph::bounds`]) for all. Widened by one
/// unit and a relative `1e-9` for the floating-point arithmetic.
fn element_bounds(graph: &Graph, t: TensorId, bounds: &[f64]) -> Vec<(f64, f64)> {
    let whole = bounds[t];
    let n: usize = graph.shape(t).iter().product();
    let widen = |(lo, hi): (f64, f64)| {
        let slack = 1.0 + 1e-9 * lo.abs().max(hi.abs());
        ((lo - slack).max(-whole), (hi + slack).min(whole))
    };
    let Some(node) = graph.producer(t) else {
        return vec![(-whole, whole); n];
    };
    match &node.op {
        Op::Rescale(r) => {
            let s = 2f64.powi(r.shift as i32);
            element_bounds(graph, node.inputs[0], bounds)
                .into_iter()
                .map(|(lo, hi)| widen((lo / s, hi / s)))
                .collect()
        }
        Op::Linear(l) => {
            let input = bounds[node.inputs[0]];
            l.rows
                .iter()
                .map(|row| {
                    let w: f64 = row.terms.iter().map(|(_, w)| (*w as f64).abs()).sum();
                    let c = row.bias as f64;
                    widen((c - w * input, c + w * input))
                })
                .collect()
        }
        _ => vec![(-whole, whole); n],
    }
}

#[cfg(test)]
mod tests {
    use super::{masked, Masking};
    use crate::test_graph::linear_then_rescale;
    use zkinfer_circuits::ops::AffineRow;
    use zkinfer_circuits::Graph;

    /// Scores `x` (2 elements, scale 16, range-checked: below 128 in magnitude) plus a mask
    /// of `-mask` on the second, rescaled to scale 8: one softmax group.
    fn graph(mask: i64) -> Graph {
        let rows = vec![
            AffineRow {
                bias: 0,
                terms: vec![(0, 1)],
            },
            AffineRow {
                bias: -mask << 16,
                terms: vec![(1, 1)],
            },
        ];
        linear_then_rescale(rows, (16, 8))
    }

    #[test]
    fn a_mask_the_inputs_cannot_outweigh_masks_and_one_they_can_does_not() {
        let groups = [vec![0, 1]];
        // Scores below 128 against a mask of 10,000: masked; of 100: not.
        assert_eq!(masked(&graph(10_000), 2, &groups, 16), [false, true]);
        assert_eq!(masked(&graph(100), 2, &groups, 16), [false, false]);
    }

    #[test]
    fn a_masking_the_whole_graph_no_longer_shows_is_an_error_naming_the_softmax() {
        let m = Masking {
            node: "attn.softmax".into(),
            x: 2,
            groups: vec![vec![0, 1]],
            exp_scale: 16,
            dead: vec![false, true],
        };
        assert!(m.holds(&graph(10_000)).is_ok());
        let err = m.holds(&graph(100)).unwrap_err().to_string();
        assert!(
            err.contains("attn.softmax") && err.contains("element 1"),
            "{err}"
        );
    }
}
