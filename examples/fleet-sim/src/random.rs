//! Seeded randomness for the simulations, drawn from core's portable
//! generator so a seed gives the same run on every platform.

use resilience_core::JitterRng;

/// A sub-seed for stream `stream` of run `seed` (SplitMix64 of a mix).
pub fn derive(seed: u64, stream: u64) -> u64 {
    JitterRng::from_seed(seed ^ stream.wrapping_mul(0xA24B_AED4_963E_E407)).next_u64()
}

/// An exponential draw with mean `mean_ns` (Poisson inter-arrival times).
pub fn exponential(rng: &JitterRng, mean_ns: f64) -> u64 {
    let u = rng.next_unit();
    (-mean_ns * (1.0 - u).ln()).round() as u64
}

/// `|N(mean, sd)|` by Box–Muller, as the AWS study models network delay.
pub fn abs_normal(rng: &JitterRng, mean: f64, sd: f64) -> f64 {
    let (u1, u2) = (1.0 - rng.next_unit(), rng.next_unit());
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    (mean + sd * z).abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_have_the_right_means() {
        let rng = JitterRng::from_seed(3);
        let n = 20_000;
        let mean = (0..n).map(|_| exponential(&rng, 1000.0) as f64).sum::<f64>() / n as f64;
        assert!((mean - 1000.0).abs() < 30.0, "{mean}");
        let mean = (0..n).map(|_| abs_normal(&rng, 10.0, 2.0)).sum::<f64>() / n as f64;
        assert!((mean - 10.0).abs() < 0.1, "{mean}");
        assert_ne!(derive(1, 1), derive(1, 2));
    }
}
