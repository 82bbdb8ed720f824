//! Elementwise affine maps folded into the dense layers that read them:
//! `Linear(Rescale(Affine(u)))` becomes `Linear'(u)`.
//!
//! A LayerNormalization's `γ·x + β` (and any `Mul`/`Add` by constants lowered to a linear
//! map with one term per output, `y_k = a_k·u_{j_k} + c_k`) is rescaled and then read by dense
//! layers (`z_o = Σ_k w_ok·y'_k + b_o` with `y' = round(y / 2^sh)`) in a transformer: each
//! element takes a linear row and a rescale with its range check (18 circuit cells). Folding
//! the map into every reader's weights, `w'_oj = round(Σ_{k: j_k = j} w_ok·a_k / 2^sh)` and
//! `b'_o = b_o + round(Σ_k w_ok·c_k / 2^sh)`, gives the same scales (the reader's output scale
//! is `u`'s plus its own weight scale plus the map's, less the shift) and one rounding less;
//! the map and its rescale are then read by nothing and pruned ([`Graph::prune_dead`]), so
//! the oracle evaluates exactly what the circuit proves.
//!
//! It applies to a reader whose only input is the rescale, where the rescale reads the map,
//! the map has one input, at most one term per output, each factor at least `2^(sh − 1)`
//! (1/2 in real terms: the folded weights keep the reader's precision within a bit; an
//! average's `1/n` before a classifier is left alone) and fixed-point (not affine) values,
//! and the folded weights and bias fit in 64 bits. A float graph is folded after it is
//! lowered, before its dead nodes are pruned.

use zkinfer_circuits::ops::{round_shift, AffineRow, Linear, Op};
use zkinfer_circuits::{Graph, TensorId};

/// Folds every elementwise affine map it can into the dense layers that read it through a
/// rescale (see the [module docs](self)); returns how many readers were rewritten.
pub(crate) fn fold_affine(graph: &mut Graph) -> usize {
    let mut folded = 0;
    for n in 0..graph.nodes.len() {
        let Some((u, rows)) = folded_rows(graph, n) else {
            continue;
        };
        let node = &mut graph.nodes[n];
        node.inputs = vec![u];
        node.op = Op::Linear(Linear { rows });
        folded += 1;
    }
    folded
}

/// The input and rows of node `n` with the affine map it reads through a rescale folded
/// in, if the fold applies.
fn folded_rows(graph: &Graph, n: usize) -> Option<(TensorId, Vec<AffineRow>)> {
    let node = &graph.nodes[n];
    let (Op::Linear(dense), [r]) = (&node.op, &node.inputs[..]) else {
        return None;
    };
    let rescale = graph.producer(*r)?;
    let (Op::Rescale(rs), [m]) = (&rescale.op, &rescale.inputs[..]) else {
        return None;
    };
    let map = graph.producer(*m)?;
    let (Op::Linear(map_op), [u]) = (&map.op, &map.inputs[..]) else {
        return None;
    };
    let fixed = [*r, *m, *u].iter().all(|t| graph.affine(*t).is_none());
    // A factor below 1/2 (in real terms) would leave the folded weights fewer bits than
    // the reader's own: an average's 1/n folded into a classifier's weights loses log2(n).
    let precise = |(_, a): &(u32, i64)| a.unsigned_abs() >= 1 << (rs.shift - 1);
    let single = |row: &AffineRow| row.terms.len() <= 1 && row.terms.iter().all(precise);
    if !fixed || !map_op.rows.iter().all(single) {
        return None;
    }
    let rows = dense
        .rows
        .iter()
        .map(|row| fold_row(row, &map_op.rows, rs.shift))
        .collect::<Option<Vec<_>>>()?;
    Some((*u, rows))
}

/// One dense row with the map folded in: exact products, one rounding per weight and one
/// for the bias.
fn fold_row(row: &AffineRow, map: &[AffineRow], shift: u32) -> Option<AffineRow> {
    let mut weights: Vec<(u32, i128)> = Vec::with_capacity(row.terms.len());
    let mut bias = 0i128;
    for (k, w) in &row.terms {
        let m = map.get(*k as usize)?;
        let w = i128::from(*w);
        bias = bias.checked_add(w.checked_mul(i128::from(m.bias))?)?;
        if let Some((j, a)) = m.terms.first() {
            let wa = w.checked_mul(i128::from(*a))?;
            match weights.iter_mut().find(|(i, _)| i == j) {
                Some((_, acc)) => *acc = acc.checked_add(wa)?,
                None => weights.push((*j, wa)),
            }
        }
    }
    let terms = weights
        .into_iter()
        .map(|(j, wa)| Some((j, i64::try_from(round_shift(wa, shift)).ok()?)))
        .collect::<Option<Vec<_>>>()?;
    let bias = i128::from(row.bias).checked_add(round_shift(bias, shift))?;
    Some(AffineRow {
        bias: i64::try_from(bias).ok()?,
        terms,
    })
}

#[cfg(test)]
mod tests {
    use super::fold_affine;
    use zkinfer_circuits::ops::{AffineRow, Linear, Op, Rescale};
    use zkinfer_circuits::{Graph, GraphInput, Node};

    fn node(name: &str, op: Op, input: usize, shape: usize, scale: i32) -> Node {
        Node {
            name: name.into(),
            op,
            inputs: vec![input],
            shape: vec![shape],
            scale,
            affine: None,
        }
    }

    /// `u` (2 elements, scale 8) → `y = a·u + c` (scale 16) → rescale by 8 → `z = Σ w·y' + b`.
    fn graph(map_terms: Vec<Vec<(u32, i64)>>) -> Graph {
        let map = Linear {
            rows: map_terms
                .into_iter()
                .enumerate()
                .map(|(k, terms)| AffineRow {
                    bias: 300 * (k as i64 + 1),
                    terms,
                })
                .collect(),
        };
        let dense = Linear {
            rows: vec![AffineRow {
                bias: 7,
                terms: vec![(0, 512), (1, -256)],
            }],
        };
        Graph {
            inputs: vec![GraphInput {
                name: "u".into(),
                shape: vec![2],
                scale: 8,
                affine: None,
            }],
            nodes: vec![
                node("map", Op::Linear(map), 0, 2, 16),
                node("map.rescale", Op::Rescale(Rescale { shift: 8 }), 1, 2, 8),
                node("dense", Op::Linear(dense), 2, 1, 16),
            ],
            outputs: vec![3],
            sources: vec![("map".into(), 1), ("dense".into(), 3)],
            layout: Default::default(),
            units_column: false,
        }
    }

    #[test]
    fn a_folded_map_gives_the_unfolded_value_within_a_rounding_and_is_pruned() {
        let mut g = graph(vec![vec![(0, 384)], vec![(1, 640)]]);
        let u = vec![vec![1000, -777]];
        let before = g.eval(&u).unwrap()[3].data[0];
        assert_eq!(fold_affine(&mut g), 1);
        // w' = (512·384 / 256, −256·640 / 256), b' = 7 + (512·300 − 256·600) / 256.
        let Op::Linear(dense) = &g.nodes[2].op else {
            panic!("still a linear map")
        };
        assert_eq!(dense.rows[0].terms, vec![(0, 768), (1, -640)]);
        assert_eq!(dense.rows[0].bias, 7);
        assert_eq!(g.nodes[2].inputs, vec![0]);
        assert_eq!(g.prune_dead(), 2);
        assert_eq!(g.nodes.len(), 1);
        assert_eq!(g.outputs, vec![1]);
        assert_eq!(g.sources, vec![("dense".into(), 1)]);
        let after = g.eval(&u).unwrap()[1].data[0];
        assert!((after - before).abs() <= 512 + 256, "{before} vs {after}");
    }

    #[test]
    fn a_map_with_a_factor_below_one_half_is_left_alone() {
        let mut g = graph(vec![vec![(0, 384)], vec![(1, 127)]]);
        let before = g.clone();
        assert_eq!(fold_affine(&mut g), 0);
        assert_eq!(g, before);
    }

    #[test]
    fn a_map_with_two_terms_per_output_is_left_alone() {
        let mut g = graph(vec![vec![(0, 384), (1, 1)], vec![(1, 640)]]);
        let before = g.clone();
        assert_eq!(fold_affine(&mut g), 0);
        assert_eq!(g, before);
    }
}
