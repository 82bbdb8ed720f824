//! Element-level dead-code elimination ([`Graph::compact_dead_elements`]): the elements of a
//! tensor that no output depends on are not computed at all.
//!
//! [`Graph::prune_dead`] removes whole nodes; this removes rows of the nodes that stay. A
//! causal attention is the case it is for: its softmax reads only the scores a query may
//! attend to (`onnx-import`'s softmax leaves out the masked ones, whose exponentials round
//! to zero), so the masked scores, the products computing them and every elementwise step
//! between are read by nothing. The rewrite keeps the graph an ordinary one: a compacted
//! tensor is a flat tensor of the elements kept, in their order, and every index reading it
//! is renumbered. What the circuit proves is then exactly what the oracle evaluates, as after
//! `prune_dead`; the outputs are unchanged, element for element.
//!
//! Three kinds of op take part. An op whose output elements each read listed input
//! elements (Linear, Bilinear, Add, Mul, Max, Gather: *row ops*) keeps the rows of its live
//! elements. An elementwise op (Rescale, Lookup) follows its input: its output is compacted
//! exactly as its input is. Any other op reads its inputs whole. A tensor is compacted only
//! where every op reading it can be renumbered (row ops, and elementwise ops that follow)
//! and it is no output of the graph.

use crate::graph::{Graph, TensorId};
use crate::indices::row_reads;
use crate::ops::{Cand, Op, Rescale};

/// How an op reads its inputs' elements.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reads {
    /// Each output element reads listed input elements.
    Rows,
    /// Output element `i` reads element `i` of its one input.
    Elementwise,
    /// Every output element may read every input element.
    Whole,
}

fn reads(op: &Op) -> Reads {
    match op {
        Op::Linear(_) | Op::Bilinear(_) | Op::Add(_) | Op::Mul(_) | Op::Max(_) | Op::Gather(_) => {
            Reads::Rows
        }
        Op::Rescale(_) | Op::Lookup(_) => Reads::Elementwise,
        _ => Reads::Whole,
    }
}

/// A row op keeping the rows `keep` selects (all with `None`), its input indices renumbered
/// by `index(slot, old)`.
fn rewrite_rows(op: &Op, keep: Option<&[bool]>, index: impl Fn(usize, u32) -> u32) -> Op {
    let kept = |o: &usize| keep.is_none_or(|k| k[*o]);
    let pick = |len: usize| (0..len).filter(kept);
    let cand = |c: &Cand| match *c {
        Cand::Elem { input, index: i } => Cand::Elem {
            input,
            index: index(input as usize, i),
        },
        Cand::Const(v) => Cand::Const(v),
    };
    let mut op = op.clone();
    match &mut op {
        Op::Linear(l) => {
            l.rows = pick(l.rows.len()).map(|o| l.rows[o].clone()).collect();
            for row in &mut l.rows {
                row.terms.iter_mut().for_each(|(i, _)| *i = index(0, *i));
            }
        }
        Op::Bilinear(b) => {
            b.rows = pick(b.rows.len())
                .map(|o| {
                    b.rows[o]
                        .iter()
                        .map(|(x, y)| (index(0, *x), index(1, *y)))
                        .collect()
                })
                .collect();
        }
        Op::Add(a) => {
            let o: Vec<usize> = pick(a.lhs.len()).collect();
            a.lhs = o.iter().map(|o| index(0, a.lhs[*o])).collect();
            a.rhs = o.iter().map(|o| index(1, a.rhs[*o])).collect();
        }
        Op::Mul(m) => {
            let o: Vec<usize> = pick(m.lhs.len()).collect();
            m.lhs = o.iter().map(|o| index(0, m.lhs[*o])).collect();
            m.rhs = o.iter().map(|o| index(1, m.rhs[*o])).collect();
        }
        Op::Max(m) => {
            m.windows = pick(m.windows.len())
                .map(|o| m.windows[o].iter().map(cand).collect())
                .collect();
        }
        Op::Gather(g) => g.items = pick(g.items.len()).map(|o| cand(&g.items[o])).collect(),
        _ => unreachable!("not a row op"),
    }
    op
}

impl Graph {
    /// Removes the elements no output depends on from the tensors whose readers allow it
    /// (see `circuits/src/compact.rs`), renumbering every index that reads them, then the
    /// nodes left unread ([`Graph::prune_dead`]). Report entries naming a compacted tensor are
    /// dropped (it no longer matches its source's shape). Returns how many elements were
    /// removed; a graph that does not validate is left as it is.
    pub fn compact_dead_elements(&mut self) -> usize {
        self.prune_dead();
        if self.validate().is_err() {
            return 0;
        }
        let before = self.clone();
        let removed = self.compact();
        // A rescale leaves its range check to later nodes that bound every element of its
        // output; where compaction took that cover away (a max over all of it now covering
        // part), it would check itself and refuse inputs it proved before: keep the graph.
        let trusting = |g: &Graph| -> Vec<bool> {
            let checked = g.checked_bits();
            g.nodes
                .iter()
                .zip(checked)
                .map(|(n, c)| matches!(n.op, Op::Rescale(_)) && Rescale::trusts_later(c))
                .collect()
        };
        let lost = trusting(&before)
            .into_iter()
            .zip(trusting(self))
            .any(|(was, is)| was && !is);
        if lost {
            *self = before;
            return 0;
        }
        self.prune_dead();
        removed
    }

    /// The rewrite of [`Graph::compact_dead_elements`], node indices unchanged.
    fn compact(&mut self) -> usize {
        let n_in = self.inputs.len();
        let compactable = self.compactable();
        let live = self.live_elements(&compactable);
        // Old index → new index of each compacted tensor.
        let mut renumber: Vec<Option<Vec<Option<u32>>>> = vec![None; n_in + self.nodes.len()];
        let mut removed = 0;
        for n in 0..self.nodes.len() {
            let t = n_in + n;
            let node = &self.nodes[n];
            let keep: Option<Vec<bool>> = match reads(&node.op) {
                Reads::Rows if compactable[t] && live[t].contains(&false) => Some(live[t].clone()),
                Reads::Elementwise if compactable[t] => renumber[node.inputs[0]]
                    .as_ref()
                    .map(|r| r.iter().map(Option::is_some).collect()),
                _ => None,
            };
            let index = |slot: usize, i: u32| match &renumber[node.inputs[slot]] {
                Some(r) => r[i as usize].expect("a kept element reads only kept elements"),
                None => i,
            };
            let op = match reads(&node.op) {
                Reads::Rows => rewrite_rows(&node.op, keep.as_deref(), index),
                _ => node.op.clone(),
            };
            if let Some(keep) = keep {
                let mut next = 0;
                let map: Vec<Option<u32>> = keep
                    .iter()
                    .map(|k| {
                        k.then(|| {
                            next += 1;
                            next - 1
                        })
                    })
                    .collect();
                removed += keep.len() - next as usize;
                self.nodes[n].shape = vec![next as usize];
                renumber[t] = Some(map);
            }
            self.nodes[n].op = op;
        }
        self.sources.retain(|(_, t)| renumber[*t].is_none());
        removed
    }

    /// Which tensors could be compacted: a row op's output that is no graph output and is
    /// read only by row ops and by elementwise ops that can follow it (their own output so
    /// compactable), and an elementwise op's output that follows a compactable input.
    fn compactable(&self) -> Vec<bool> {
        let n_in = self.inputs.len();
        let total = n_in + self.nodes.len();
        let mut is_output = vec![false; total];
        self.outputs.iter().for_each(|o| is_output[*o] = true);
        let mut readers: Vec<Vec<usize>> = vec![vec![]; total];
        for (n, node) in self.nodes.iter().enumerate() {
            for t in &node.inputs {
                readers[*t].push(n);
            }
        }
        // Readers come later: decide from the last tensor back.
        let mut follows = vec![false; self.nodes.len()];
        let mut renumberable = vec![false; total];
        for t in (0..total).rev() {
            renumberable[t] = !is_output[t]
                && readers[t].iter().all(|&c| match reads(&self.nodes[c].op) {
                    Reads::Rows => true,
                    Reads::Elementwise => follows[c],
                    Reads::Whole => false,
                });
            if let Some(n) = t.checked_sub(n_in) {
                follows[n] = reads(&self.nodes[n].op) == Reads::Elementwise && renumberable[t];
            }
        }
        let mut compactable = vec![false; total];
        for (n, node) in self.nodes.iter().enumerate() {
            let t = n_in + n;
            compactable[t] = match reads(&node.op) {
                Reads::Rows => renumberable[t],
                Reads::Elementwise => follows[n] && compactable[node.inputs[0]],
                Reads::Whole => false,
            };
        }
        compactable
    }

    /// Which elements of each tensor an output depends on, given which tensors may be
    /// compacted: a live node whose output stays whole is live in every element, and reads
    /// all it reads for each.
    fn live_elements(&self, compactable: &[bool]) -> Vec<Vec<bool>> {
        let n_in = self.inputs.len();
        let node_live = self.live_nodes();
        let len = |t: TensorId| self.shape(t).iter().product::<usize>();
        let mut live: Vec<Vec<bool>> = (0..n_in + self.nodes.len())
            .map(|t| vec![false; len(t)])
            .collect();
        for o in &self.outputs {
            live[*o].fill(true);
        }
        for (n, node) in self.nodes.iter().enumerate().rev() {
            let mut out = std::mem::take(&mut live[n_in + n]);
            if !compactable[n_in + n] && node_live[n] {
                // Laid out whole: every element, and all it reads.
                out.fill(true);
            }
            if !out.contains(&true) {
                live[n_in + n] = out;
                continue;
            }
            let kind = match reads(&node.op) {
                k if compactable[n_in + n] => k,
                Reads::Rows => Reads::Rows,
                _ => Reads::Whole,
            };
            match kind {
                Reads::Rows => {
                    // A row op kept whole reads every row.
                    let all = !compactable[n_in + n];
                    for o in (0..out.len()).filter(|o| all || out[*o]) {
                        for (slot, i) in row_reads(&node.op, o) {
                            live[node.inputs[slot]][i] = true;
                        }
                    }
                }
                Reads::Elementwise => {
                    let input = &mut live[node.inputs[0]];
                    for (i, _) in out.iter().enumerate().filter(|(_, l)| **l) {
                        input[i] = true;
                    }
                }
                Reads::Whole => node.inputs.iter().for_each(|t| live[*t].fill(true)),
            }
            live[n_in + n] = out;
        }
        live
    }
}
