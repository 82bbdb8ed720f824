//! The quotient check as Yul expressions: every constraint of the circuit (custom gates,
//! permutation, lookups) evaluated at `x` from the proof's evaluations, in halo2's order,
//! folded with powers of `y` (halo2 `vanishing::PartiallyEvaluated::verify`).

use crate::plan::Plan;
use crate::solidity::{hex_word, Mem};
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::{Field, PrimeField};
use halo2_axiom::plonk::{Any, Expression};
use zkinfer_prover::transcript::scalar_word;

/// Yul expression of a constant.
fn constant(c: &Fr) -> String {
    hex_word(&scalar_word(c))
}

/// Yul expression loading proof scalar `i`.
pub fn eval(plan: &Plan, mem: &Mem, i: usize) -> String {
    format!("mload({:#x})", mem.proof + plan.scalar(i))
}

/// Yul expression of a halo2 expression at `x`.
fn expr(plan: &Plan, mem: &Mem, e: &Expression<Fr>) -> String {
    match e {
        Expression::Constant(c) => constant(c),
        Expression::Fixed(q) => {
            let i = plan
                .column_eval(Any::Fixed, q.column_index(), q.rotation().0)
                .expect("queried fixed column");
            eval(plan, mem, i)
        }
        Expression::Advice(q) => {
            let i = plan
                .column_eval(Any::advice(), q.column_index(), q.rotation().0)
                .expect("queried advice column");
            eval(plan, mem, i)
        }
        Expression::Instance(_) => mem.get("INSTANCE_EVAL"),
        Expression::Negated(a) => format!("sub(R, {})", expr(plan, mem, a)),
        Expression::Sum(a, b) => {
            format!("addmod({}, {}, R)", expr(plan, mem, a), expr(plan, mem, b))
        }
        Expression::Product(a, b) => {
            format!("mulmod({}, {}, R)", expr(plan, mem, a), expr(plan, mem, b))
        }
        Expression::Scaled(a, c) => format!("mulmod({}, {}, R)", expr(plan, mem, a), constant(c)),
        Expression::Selector(_) | Expression::Challenge(_) => {
            unreachable!("rejected by Plan::new")
        }
    }
}

/// The running fold `h = h·y + c` of the constraints, as Yul statements.
struct Fold {
    out: Vec<String>,
    first: bool,
}

impl Fold {
    /// Folds constraint `c`, after a comment naming it.
    fn push(&mut self, label: &str, c: String) {
        self.out.push(format!("// {label}"));
        if self.first {
            self.out.push(format!("let h := {c}"));
            self.first = false;
        } else {
            self.out
                .push(format!("h := addmod(mulmod(h, y, R), {c}, R)"));
        }
    }
}

/// Yul statements folding every constraint into `H_EVAL` (`acc = acc·y + c`), then dividing
/// by `xⁿ − 1` (its inverse is at `inv_xn`).
pub fn emit(plan: &Plan, mem: &Mem, inv_xn: usize) -> Vec<String> {
    // In one block: the running value `h` and `y` stay on the stack.
    let mut fold = Fold {
        out: vec!["{".to_string(), format!("let y := {}", mem.get("Y"))],
        first: true,
    };
    for gate in plan.cs.gates() {
        for (i, poly) in gate.polynomials().iter().enumerate() {
            fold.push(
                &format!("gate {:?} #{i}", gate.name()),
                expr(plan, mem, poly),
            );
        }
    }
    permutation(plan, mem, &mut fold);
    lookups(plan, mem, &mut fold);
    let mut out = fold.out;
    out.push(format!(
        "mstore({}, mulmod(h, mload({inv_xn:#x}), R))",
        mem.at("H_EVAL")
    ));
    out.push("}".to_string());
    out
}

/// The permutation argument's constraints (halo2
/// `permutation::verifier::Evaluated::expressions`): the first and last values of the grand
/// products, the links between chunks, and each chunk's product step.
fn permutation(plan: &Plan, mem: &Mem, fold: &mut Fold) {
    let s = |name: &str| mem.get(name);
    let (l0, llast) = (s("L_0"), s("L_LAST"));
    let active = s("ACTIVE");
    let z = |j: usize, k: usize| eval(plan, mem, plan.perm_evals + 3 * j + k);
    let chunks = plan.perm_chunks;
    if chunks > 0 {
        fold.push(
            "permutation: l_0·(1 − z_0)",
            format!("mulmod({l0}, addmod(1, sub(R, {}), R), R)", z(0, 0)),
        );
        let zl = z(chunks - 1, 0);
        fold.push(
            "permutation: l_last·(z_l² − z_l)",
            format!("mulmod({llast}, addmod(mulmod({zl}, {zl}, R), sub(R, {zl}), R), R)"),
        );
        for j in 1..chunks {
            fold.push(
                &format!("permutation: l_0·(z_{j} − z_{}(ω^last·x))", j - 1),
                format!(
                    "mulmod({l0}, addmod({}, sub(R, {}), R), R)",
                    z(j, 0),
                    z(j - 1, 2)
                ),
            );
        }
    }
    let cols = plan.cs.permutation().get_columns();
    let chunk_len = plan.degree - 2;
    let (beta, gamma, beta_x) = (s("BETA"), s("GAMMA"), s("BETA_X"));
    let mut delta_pow = Fr::ONE;
    for (j, chunk) in cols.chunks(chunk_len).enumerate() {
        let mut left = z(j, 1);
        let mut right = z(j, 0);
        for (k, col) in chunk.iter().enumerate() {
            let value = match plan.column_eval(*col.column_type(), col.index(), 0) {
                Some(i) => eval(plan, mem, i),
                None => s("INSTANCE_EVAL"),
            };
            let sigma = eval(plan, mem, plan.sigma_evals + j * chunk_len + k);
            left = format!(
                "mulmod({left}, addmod(addmod({value}, mulmod({beta}, {sigma}, R), R), {gamma}, R), R)"
            );
            let shifted = if delta_pow == Fr::ONE {
                beta_x.clone()
            } else {
                format!("mulmod({beta_x}, {}, R)", constant(&delta_pow))
            };
            right =
                format!("mulmod({right}, addmod(addmod({value}, {shifted}, R), {gamma}, R), R)");
            delta_pow *= Fr::DELTA;
        }
        fold.push(
            &format!("permutation: chunk {j} product"),
            format!("mulmod(addmod({left}, sub(R, {right}), R), {active}, R)"),
        );
    }
}

/// Each lookup's five constraints (halo2 `lookup::verifier::Evaluated::expressions`).
fn lookups(plan: &Plan, mem: &Mem, fold: &mut Fold) {
    let s = |name: &str| mem.get(name);
    let (l0, llast, active) = (s("L_0"), s("L_LAST"), s("ACTIVE"));
    let (beta, gamma, theta) = (s("BETA"), s("GAMMA"), s("THETA"));
    for (i, lookup) in plan.cs.lookups().iter().enumerate() {
        let e = |k: usize| eval(plan, mem, plan.lookup_evals + 5 * i + k);
        let (zx, znext, a, ainv, t) = (e(0), e(1), e(2), e(3), e(4));
        let compress = |exprs: &[Expression<Fr>]| {
            exprs
                .iter()
                .map(|ex| expr(plan, mem, ex))
                .reduce(|acc, ex| format!("addmod(mulmod({acc}, {theta}, R), {ex}, R)"))
                .expect("a lookup has expressions")
        };
        let name = lookup.name();
        fold.push(
            &format!("lookup {name:?}: l_0·(1 − z)"),
            format!("mulmod({l0}, addmod(1, sub(R, {zx}), R), R)"),
        );
        fold.push(
            &format!("lookup {name:?}: l_last·(z² − z)"),
            format!("mulmod({llast}, addmod(mulmod({zx}, {zx}, R), sub(R, {zx}), R), R)"),
        );
        let left = format!(
            "mulmod(mulmod({znext}, addmod({a}, {beta}, R), R), addmod({t}, {gamma}, R), R)"
        );
        let right = format!(
            "mulmod(mulmod({zx}, addmod({}, {beta}, R), R), addmod({}, {gamma}, R), R)",
            compress(lookup.input_expressions()),
            compress(lookup.table_expressions())
        );
        fold.push(
            &format!("lookup {name:?}: product"),
            format!("mulmod(addmod({left}, sub(R, {right}), R), {active}, R)"),
        );
        fold.push(
            &format!("lookup {name:?}: l_0·(a′ − s′)"),
            format!("mulmod({l0}, addmod({a}, sub(R, {t}), R), R)"),
        );
        fold.push(
            &format!("lookup {name:?}: (a′ − s′)·(a′ − a′(ω⁻¹x))"),
            format!(
                "mulmod(mulmod(addmod({a}, sub(R, {t}), R), addmod({a}, sub(R, {ainv}), R), R), {active}, R)"
            ),
        );
    }
}
