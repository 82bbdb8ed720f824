//! What the wide layout's units ([`FusedUnit`](super::FusedUnit),
//! [`RequantUnit`](super::RequantUnit)) share: where a unit's cells sit, its selector's
//! indicators, the value of limb cells and the running product that must vanish.

use super::LANES;
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::plonk::Expression;

/// The offset of a unit's `c`-th cell from its first: cells in order, skipping the first
/// layout row's `z` (offset [`LANES`]), where the gadget before the unit may have put its
/// result.
pub(super) fn cell_offset(c: usize) -> usize {
    if c < LANES {
        c
    } else {
        c + 1
    }
}

/// The selector value of a unit with `n` candidates among `shapes`: 1 + its position there.
pub(super) fn selector(shapes: [usize; 2], n: usize) -> u64 {
    let i = shapes.iter().position(|&s| s == n);
    1 + i.expect("one of the unit's shapes") as u64
}

/// Product cells of a running product of `factors` that must vanish, at most three factors
/// a constraint: three into the first cell, two more into each next, while more than two
/// remain after it.
pub(super) fn product_cells(factors: usize) -> usize {
    factors.saturating_sub(3).div_ceil(2)
}

/// The indicators `[v = 1]` and `[v = 2]` of a unit's selector `v ∈ {0, 1, 2}` (its two
/// shapes), each of degree 2.
pub(super) fn indicators(v: &Expression<Fr>) -> [Expression<Fr>; 2] {
    [super::config::is_one(v), super::config::is_two(v)]
}

/// `Σ_{s : shapes[s] > i} on_s`: on for every shape with more than `i` candidates (every
/// shape when `i` is `None`), so that a constraint all those shapes share is stated once.
pub(super) fn having(
    shapes: [usize; 2],
    on: &[Expression<Fr>; 2],
    i: Option<usize>,
) -> Expression<Fr> {
    shapes
        .into_iter()
        .zip(on.iter().cloned())
        .filter(|(n, _)| i.is_none_or(|i| *n > i))
        .fold(Expression::Constant(Fr::zero()), |s, (_, on)| s + on)
}

/// `Σ_j 2^(8j)·cells[j]`: the value of limb cells, lowest first.
pub(super) fn limb_value(cells: Vec<Expression<Fr>>) -> Expression<Fr> {
    cells
        .into_iter()
        .enumerate()
        .fold(Expression::Constant(Fr::zero()), |s, (j, c)| {
            s + c * Expression::Constant(Fr::from(1u64 << (super::LIMB_BITS * j as u32)))
        })
}

/// The constraints, each times `on`, that `Π factors = 0` through the product cells `cell(p)`
/// ([`product_cells`]): `p_0 = f_0·f_1·f_2`, `p_(k+1) = p_k·f·f`, and the last product with
/// the factors left equals 0. Degree 3 before `on`.
pub(super) fn vanishing_product(
    on: &Expression<Fr>,
    factors: Vec<Expression<Fr>>,
    mut cell: impl FnMut(usize) -> Expression<Fr>,
) -> Vec<Expression<Fr>> {
    let products = product_cells(factors.len());
    let mut rest = factors.into_iter();
    let mut acc = rest.next().expect("a factor");
    let mut constraints = Vec::new();
    for p in 0..products {
        let prod = acc * rest.next().expect("a factor") * rest.next().expect("a factor");
        let pc = cell(p);
        constraints.push(on.clone() * (pc.clone() - prod));
        acc = pc;
    }
    constraints.push(on.clone() * rest.fold(acc, |acc, f| acc * f));
    constraints
}
