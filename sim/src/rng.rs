//! Deterministic randomness: a seeded generator for the simulation's choices and stateless
//! hashes for placement, so that every run with the same seed makes the same cluster and the
//! same history.

/// SplitMix64: small, fast, and good enough for a simulation's dice. Never seeded from the
/// clock: the seed is a setting.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            state: seed ^ 0x9e37_79b9_7f4a_7c15,
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.state)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub(crate) fn range_f(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform in [0, n); 0 when n is 0.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// The SplitMix64 finaliser: a bijective 64-bit mix.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A hash of two values.
pub(crate) fn hash2(a: u64, b: u64) -> u64 {
    mix64(a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ mix64(b ^ 0x2545_f491_4f6c_dd1d))
}

/// A hash of three values.
pub(crate) fn hash3(a: u64, b: u64, c: u64) -> u64 {
    hash2(hash2(a, b), c)
}

/// A cheap per-item draw for straw2: `seed` already mixes the placement input and the replica
/// number, `key` is the item's own random key. One 128-bit multiply, folded.
#[inline]
pub(crate) fn draw(seed: u64, key: u64) -> u64 {
    let m = u128::from(seed ^ key).wrapping_mul(u128::from(key | 1) ^ 0x2d35_8dcc_aa6c_78a5);
    let folded = (m as u64) ^ ((m >> 64) as u64);
    mix_light(folded)
}

#[inline]
fn mix_light(mut z: u64) -> u64 {
    z ^= z >> 29;
    z = z.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z ^ (z >> 32)
}

/// A hash as a fraction in [0, 1).
pub(crate) fn frac(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_spread() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        let mut counts = [0u32; 10];
        let mut r = Rng::new(1);
        for _ in 0..10_000 {
            counts[r.below(10) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn draws_are_uniform_over_items() {
        // Winner counts of an unweighted straw2 over 16 items: each near 1/16.
        let keys: Vec<u64> = (0..16).map(|i| mix64(i + 100)).collect();
        let mut wins = [0u32; 16];
        for x in 0..32_000u64 {
            let seed = hash2(x, 0);
            let best = (0..16)
                .max_by_key(|&i| draw(seed, keys[i]))
                .unwrap_or_default();
            wins[best] += 1;
        }
        assert!(wins.iter().all(|&w| (1700..2300).contains(&w)), "{wins:?}");
    }
}
