//! Max pooling before requantization: `Max(Requant(acc))` becomes `Requant(Max(acc))`.
//!
//! A requantization is monotone non-decreasing in its accumulator (its multipliers are
//! positive, `Requant::check_params`), so over a window of one channel the maximum of the
//! requantized accumulators is the requantization of the maximum accumulator, bit for bit:
//! the pooled int8 values are what onnxruntime computes. The pooled graph requantizes one
//! accumulator per window instead of every one (a quarter of them for a 2×2 pooling), and
//! compares accumulators (a conv's int32 sums, below `2^24` apart in any window the max's
//! rows accept) instead of int8 values.
//!
//! The rewrite applies where the requantization's output is read by the max alone (not by
//! another node, not a graph output), the max is not a min, takes no constants and reads
//! every element, the accumulators are below `2^23` in magnitude whatever the input
//! (`Graph::bounds`: every window spans less than `2^24`, which the max's rows accept, so
//! the rewritten graph accepts every input the original did), and the channels work out: every window's elements share a channel, and the pooled tensor's
//! elements, in order, fall in runs of one channel that a requantization's `inner` can
//! describe. The two nodes keep their places (the graph stays in topological order): the
//! requantization's node becomes the max over accumulators (named `<max>.acc`, no affine
//! parameters: its values are accumulators), the max's node the requantization of it, with
//! the max's name and parameters; the report entries naming the requantized tensor, which no
//! longer exists, are dropped.

use zkinfer_circuits::ops::{Cand, Max, Op, Requant};
use zkinfer_circuits::Graph;

/// Rewrites every `Max(Requant(acc))` it can (see the [module docs](self)); returns how many.
pub(crate) fn pool_first(graph: &mut Graph) -> usize {
    if graph.validate().is_err() {
        // The caller's validation names what is wrong.
        return 0;
    }
    let bounds = graph.bounds();
    let n_in = graph.inputs.len();
    let mut readers = vec![0usize; graph.nodes.len()];
    for node in &graph.nodes {
        for n in node.inputs.iter().filter_map(|i| i.checked_sub(n_in)) {
            readers[n] += 1;
        }
    }
    let mut rewritten = 0;
    for p in 0..graph.nodes.len() {
        let Some(r) = rewritable(graph, p, &readers) else {
            continue;
        };
        // Accumulators below 2^23 in magnitude, whatever the input: every window spans less
        // than 2^24 (the max's rows accept it) and lies in the int32 range, so every input
        // the two nodes accepted is still accepted.
        if bounds[graph.nodes[r].inputs[0]] >= f64::from(1u32 << 23) {
            continue;
        }
        let (Op::Max(max), Op::Requant(rq)) = (&graph.nodes[p].op, &graph.nodes[r].op) else {
            continue;
        };
        let Some(inner) = pooled_inner(max, rq) else {
            continue;
        };
        let (max, rq) = (
            max.clone(),
            Requant {
                inner,
                ..rq.clone()
            },
        );
        let acc = graph.nodes[r].inputs[0];
        let pooled = &graph.nodes[p];
        let (name, shape) = (format!("{}.acc", pooled.name), pooled.shape.clone());
        let acc_scale = graph.scale(acc);
        let node = &mut graph.nodes[r];
        (node.name, node.op, node.shape) = (name, Op::Max(max), shape);
        (node.inputs, node.scale, node.affine) = (vec![acc], acc_scale, None);
        graph.nodes[p].op = Op::Requant(rq);
        graph.sources.retain(|(_, id)| *id != n_in + r);
        rewritten += 1;
    }
    rewritten
}

/// The requantization node that max node `p` pools, if the rewrite may apply to the pair.
fn rewritable(graph: &Graph, p: usize, readers: &[usize]) -> Option<usize> {
    let n_in = graph.inputs.len();
    let node = &graph.nodes[p];
    let Op::Max(max) = &node.op else {
        return None;
    };
    let [input] = node.inputs[..] else {
        return None;
    };
    let r = input.checked_sub(n_in)?;
    let only_elements = max.windows.iter().flatten().all(|c| match c {
        Cand::Elem { input, .. } => *input == 0,
        Cand::Const(_) => false,
    });
    let requant = &graph.nodes[r];
    // Every element in some window: the max then bounds every accumulator
    // (`Max::bounds_candidates`), as the requantization did, and the wide layout still
    // packs the convolution's outputs.
    let elements: usize = requant.shape.iter().product();
    let mut covered = vec![false; elements];
    for c in max.windows.iter().flatten() {
        if let Cand::Elem { index, .. } = c {
            if let Some(seen) = covered.get_mut(*index as usize) {
                *seen = true;
            }
        }
    }
    let ok = covered.iter().all(|c| *c)
        && !max.min
        && !max.windows.is_empty()
        && only_elements
        && readers[r] == 1
        && !graph.outputs.contains(&input)
        && matches!(requant.op, Op::Requant(_))
        && requant.inputs.len() == 1;
    ok.then_some(r)
}

/// The `inner` of the pooled tensor's requantization: each window's elements must share a
/// channel, and output `o`'s channel must be `(o / inner) % channels`.
fn pooled_inner(max: &Max, rq: &Requant) -> Option<u32> {
    let channels = rq.multipliers.len();
    if channels == 0 {
        return None;
    }
    let channel = |i: usize| (i / rq.inner.max(1) as usize) % channels;
    let of_window: Vec<usize> = max
        .windows
        .iter()
        .map(|w| {
            let mut cs = w.iter().map(|c| match c {
                Cand::Elem { index, .. } => channel(*index as usize),
                Cand::Const(_) => usize::MAX,
            });
            let first = cs.next()?;
            cs.all(|c| c == first).then_some(first)
        })
        .collect::<Option<_>>()?;
    if channels == 1 {
        return Some(1);
    }
    let run = of_window
        .iter()
        .position(|c| *c != of_window[0])
        .unwrap_or(of_window.len());
    let fits = of_window
        .iter()
        .enumerate()
        .all(|(o, c)| (o / run) % channels == *c);
    fits.then(|| u32::try_from(run).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::pool_first;
    use zkinfer_circuits::ops::{Cand, Max, Op, Requant, Reshape};
    use zkinfer_circuits::{Affine, Graph, GraphInput, Node};

    /// `x` (2 channels of 4×4 accumulators) → requant (per channel) → 2×2 max pooling, and
    /// optionally a second reader of the requantization.
    fn pooled(second_reader: bool) -> Graph {
        let window = |c: usize, y: usize, x: usize| -> Vec<Cand> {
            let at = |dy, dx| Cand::of((c * 16 + (2 * y + dy) * 4 + 2 * x + dx) as u32);
            vec![at(0, 0), at(0, 1), at(1, 0), at(1, 1)]
        };
        let windows = (0..2)
            .flat_map(|c| (0..2).flat_map(move |y| (0..2).map(move |x| window(c, y, x))))
            .collect();
        let node = |name: &str, op, inputs, shape| Node {
            name: name.into(),
            op,
            inputs,
            shape,
            scale: 0,
            affine: None,
        };
        let rq = Requant {
            multipliers: vec![0.0137, 0.0051],
            inner: 16,
            zero_point: -128,
            qmin: -128,
            qmax: 127,
            float_zero_point: false,
        };
        let mut nodes = vec![
            node("rq", Op::Requant(rq), vec![0], vec![1, 2, 4, 4]),
            node(
                "pool",
                Op::Max(Max {
                    min: false,
                    windows,
                }),
                vec![1],
                vec![1, 2, 2, 2],
            ),
        ];
        let mut outputs = vec![2];
        if second_reader {
            nodes.push(node("again", Op::Reshape(Reshape {}), vec![1], vec![32]));
            outputs.push(3);
        }
        Graph {
            // 16-bit accumulators: bounded below 2^23, as the rewrite requires.
            inputs: vec![GraphInput {
                name: "acc".into(),
                shape: vec![1, 2, 4, 4],
                scale: 0,
                affine: Some(Affine {
                    scale: 1.0,
                    zero_point: 0,
                    min: -32768,
                    max: 32767,
                    exact: true,
                }),
            }],
            nodes,
            outputs,
            sources: vec![("rq".into(), 1), ("pool".into(), 2)],
            layout: Default::default(),
            units_column: false,
        }
    }

    #[test]
    fn pooling_first_gives_the_same_int8_values() {
        let graph = pooled(false);
        let mut rewritten = graph.clone();
        assert_eq!(pool_first(&mut rewritten), 1);
        rewritten.validate().unwrap();
        assert!(matches!(rewritten.nodes[0].op, Op::Max(_)));
        assert!(matches!(&rewritten.nodes[1].op, Op::Requant(r) if r.inner == 4));
        assert_eq!(rewritten.nodes[1].name, "pool");
        assert_eq!(rewritten.sources, vec![("pool".to_string(), 2)]);
        // Accumulators spanning both saturations of both channels' multipliers.
        for seed in 0..20i128 {
            let acc: Vec<i128> = (0..32)
                .map(|i| ((i * 7919 + seed * 104_729) % 65_535) - 32_767)
                .collect();
            let want = graph.eval(std::slice::from_ref(&acc)).unwrap();
            let got = rewritten.eval(&[acc]).unwrap();
            assert_eq!(want[2], got[2], "seed {seed}");
        }
    }

    #[test]
    fn accumulators_that_may_reach_2_23_are_left_alone() {
        let mut graph = pooled(false);
        graph.inputs[0].affine = None;
        let before = graph.clone();
        assert_eq!(pool_first(&mut graph), 0);
        assert_eq!(graph, before);
    }

    #[test]
    fn a_requantization_read_twice_is_left_alone() {
        let mut graph = pooled(true);
        let before = graph.clone();
        assert_eq!(pool_first(&mut graph), 0);
        assert_eq!(graph, before);
    }
}
