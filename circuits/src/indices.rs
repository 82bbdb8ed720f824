//! The graph's indices checked against its tensors ([`Graph::check_indices`]): every element
//! an op reads exists, and every op defines one value per element of its declared shape.
//! The oracle checks this as it evaluates; key generation lays a blank circuit out without
//! evaluating, so a hand-edited graph file must be refused before.

use crate::error::{CircuitError, Result};
use crate::graph::{Graph, TensorId};
use crate::ops::{Cand, Op};

/// What an op reads for its output elements: `(rows, reads)`, its number of output values
/// and each `(input slot, element)` read. `None` for an elementwise op (one value per input
/// element, the input's element `o` for output `o`).
fn reads(op: &Op) -> Option<(usize, Vec<(usize, usize)>)> {
    let cand = |c: &Cand| match *c {
        Cand::Elem { input, index } => Some((input as usize, index as usize)),
        Cand::Const(_) => None,
    };
    let pairs = |l: &[u32], r: &[u32]| -> Vec<(usize, usize)> {
        let left = l.iter().map(|i| (0, *i as usize));
        left.chain(r.iter().map(|i| (1, *i as usize))).collect()
    };
    let out = match op {
        Op::Linear(l) => {
            let r = l
                .rows
                .iter()
                .flat_map(|row| row.terms.iter().map(|(i, _)| (0, *i as usize)));
            (l.rows.len(), r.collect())
        }
        Op::Bilinear(b) => {
            let r = b.rows.iter().flatten();
            let r = r.flat_map(|(x, y)| [(0, *x as usize), (1, *y as usize)]);
            (b.rows.len(), r.collect())
        }
        Op::Add(a) if a.lhs.len() == a.rhs.len() => (a.lhs.len(), pairs(&a.lhs, &a.rhs)),
        Op::Mul(m) if m.lhs.len() == m.rhs.len() => (m.lhs.len(), pairs(&m.lhs, &m.rhs)),
        // Operand lists of different lengths: no count fits them.
        Op::Add(_) | Op::Mul(_) => (usize::MAX, vec![]),
        Op::Max(m) => {
            let r = m.windows.iter().flatten().filter_map(cand);
            (m.windows.len(), r.collect())
        }
        Op::Gather(g) => (g.items.len(), g.items.iter().filter_map(cand).collect()),
        Op::Compare(c) if c.lhs.len() == c.rhs.len() => {
            let r = c.lhs.iter().chain(&c.rhs).filter_map(cand);
            (c.lhs.len(), r.collect())
        }
        Op::Where(w) if w.cond.len() == w.then.len() && w.then.len() == w.otherwise.len() => {
            let cond = w.cond.iter().map(|i| (0, *i as usize));
            let r = cond.chain(w.then.iter().chain(&w.otherwise).filter_map(cand));
            (w.cond.len(), r.collect())
        }
        Op::Compare(_) | Op::Where(_) => (usize::MAX, vec![]),
        Op::ArgMax(a) => {
            let r = a.windows.iter().flatten().map(|i| (0, *i as usize));
            (a.windows.len(), r.collect())
        }
        _ => return None,
    };
    Some(out)
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
            let Some((rows, reads)) = reads(&node.op) else {
                let input = node.inputs.first().map_or(0, |t| len(*t));
                if input != out {
                    return Err(bad(format!(
                        "{} maps its input's {input} elements to {out}",
                        node.op.name()
                    )));
                }
                continue;
            };
            if rows == usize::MAX {
                return Err(bad(format!(
                    "{}'s operand lists differ in length",
                    node.op.name()
                )));
            }
            if rows != out {
                return Err(bad(format!(
                    "{rows} outputs defined for output shape {:?}",
                    node.shape
                )));
            }
            for (slot, i) in reads {
                let Some(t) = node.inputs.get(slot) else {
                    return Err(bad(format!("reads input {slot} of {}", node.inputs.len())));
                };
                if i >= len(*t) {
                    return Err(bad(format!(
                        "reads element {i} of input {slot} ({} elements)",
                        len(*t)
                    )));
                }
            }
        }
        Ok(())
    }
}
