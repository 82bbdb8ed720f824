//! The graph's indices checked against its tensors ([`Graph::check_indices`]): every element
//! an op reads exists, and every op defines one value per element of its declared shape.
//! The oracle checks this as it evaluates; key generation lays a blank circuit out without
//! evaluating, so a hand-edited graph file must be refused before.

use crate::error::{CircuitError, Result};
use crate::graph::{Graph, TensorId};
use crate::ops::{Cand, Op};

/// How many values an op defines from listed reads ([`row_reads`]): `Some(Err(()))` where
/// its lists of operands differ in length, `None` for an op that maps its one input element
/// for element.
pub(crate) fn rows(op: &Op) -> Option<std::result::Result<usize, ()>> {
    let same = |a: usize, b: usize| if a == b { Ok(a) } else { Err(()) };
    Some(match op {
        Op::Linear(l) => Ok(l.rows.len()),
        Op::Bilinear(b) => Ok(b.rows.len()),
        Op::Add(a) => same(a.lhs.len(), a.rhs.len()),
        Op::Mul(m) => same(m.lhs.len(), m.rhs.len()),
        Op::Max(m) => Ok(m.windows.len()),
        Op::Gather(g) => Ok(g.items.len()),
        Op::Compare(c) => same(c.lhs.len(), c.rhs.len()),
        Op::Where(w) => same(w.cond.len(), w.then.len()).and_then(|n| same(n, w.otherwise.len())),
        Op::ArgMax(a) => Ok(a.windows.len()),
        _ => return None,
    })
}

/// The `(input slot, element)` pairs output element `o` of an op with rows ([`rows`])
/// reads.
pub(crate) fn row_reads(op: &Op, o: usize) -> Vec<(usize, usize)> {
    let elems = |cs: &mut dyn Iterator<Item = &Cand>| -> Vec<(usize, usize)> {
        cs.filter_map(|c| match *c {
            Cand::Elem { input, index } => Some((input as usize, index as usize)),
            Cand::Const(_) => None,
        })
        .collect()
    };
    let first = |i: &[u32]| i.iter().map(|i| (0, *i as usize)).collect();
    match op {
        Op::Linear(l) => l.rows[o]
            .terms
            .iter()
            .map(|(i, _)| (0, *i as usize))
            .collect(),
        Op::Bilinear(b) => b.rows[o]
            .iter()
            .flat_map(|(x, y)| [(0, *x as usize), (1, *y as usize)])
            .collect(),
        Op::Add(a) => vec![(0, a.lhs[o] as usize), (1, a.rhs[o] as usize)],
        Op::Mul(m) => vec![(0, m.lhs[o] as usize), (1, m.rhs[o] as usize)],
        Op::Max(m) => elems(&mut m.windows[o].iter()),
        Op::Gather(g) => elems(&mut std::iter::once(&g.items[o])),
        Op::Compare(c) => elems(&mut [&c.lhs[o], &c.rhs[o]].into_iter()),
        Op::Where(w) => {
            let mut r = elems(&mut [&w.then[o], &w.otherwise[o]].into_iter());
            r.push((0, w.cond[o] as usize));
            r
        }
        Op::ArgMax(a) => first(&a.windows[o]),
        _ => unreachable!("an op without rows"),
    }
}

impl Graph {
    /// Checks every node's indices against its inputs' element counts and its output count
    /// against its shape (see the [module docs](self)); [`Graph::validate`] runs it.
    pub(crate) fn check_indices(&self) -> Result<()> {
        let len = |t: TensorId| self.shape(t).iter().product::<usize>();
        for (n, node) in self.nodes.iter().enumerate() {
            let out = len(self.inputs.len() + n);
            let bad = |reason: String| CircuitError::MalformedGraph {
                node: node.name.clone(),
                reason,
            };
            let defined = match rows(&node.op) {
                None => {
                    let input = node.inputs.first().map_or(0, |t| len(*t));
                    if input != out {
                        let op = node.op.name();
                        return Err(bad(format!(
                            "{op} maps its input's {input} elements to {out}"
                        )));
                    }
                    continue;
                }
                Some(Err(())) => {
                    let op = node.op.name();
                    return Err(bad(format!("{op}'s operand lists differ in length")));
                }
                Some(Ok(rows)) => rows,
            };
            if defined != out {
                let shape = &node.shape;
                return Err(bad(format!(
                    "{defined} outputs defined for output shape {shape:?}"
                )));
            }
            for o in 0..defined {
                for (slot, i) in row_reads(&node.op, o) {
                    let Some(t) = node.inputs.get(slot) else {
                        let inputs = node.inputs.len();
                        return Err(bad(format!("reads input {slot} of {inputs}")));
                    };
                    if i >= len(*t) {
                        let n = len(*t);
                        return Err(bad(format!(
                            "reads element {i} of input {slot} ({n} elements)"
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}
