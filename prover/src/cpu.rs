//! The CPU features the field arithmetic is compiled for.
//!
//! On x86_64 this crate enables halo2curves' assembly field arithmetic (MULX, ADCX, ADOX: the
//! BMI2 and ADX extensions, in x86_64 CPUs since 2013–2015), about 13% off a proof's time.
//! On a CPU without them the first field multiplication would stop the process with an
//! illegal instruction; [`check_cpu`] turns that into an error first.

use crate::{ProverError, Result};

/// Checks that this CPU runs the field arithmetic this build was compiled with: an error
/// naming the missing extensions otherwise. Keygen, proving, verification and key reading
/// call it; call it before any other use of the circuit types on an unknown machine.
pub fn check_cpu() -> Result<()> {
    let missing = missing_features();
    if missing.is_empty() {
        return Ok(());
    }
    Err(ProverError::UnsupportedCpu {
        missing: missing.join(", "),
    })
}

#[cfg(target_arch = "x86_64")]
fn missing_features() -> Vec<&'static str> {
    let mut missing = Vec::new();
    if !std::arch::is_x86_feature_detected!("bmi2") {
        missing.push("BMI2");
    }
    if !std::arch::is_x86_feature_detected!("adx") {
        missing.push("ADX");
    }
    missing
}

#[cfg(not(target_arch = "x86_64"))]
fn missing_features() -> Vec<&'static str> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_machine_runs_the_build() {
        // The tests got here through field arithmetic already; the check must agree.
        super::check_cpu().unwrap();
    }
}
