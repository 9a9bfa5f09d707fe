//! CRUSH-like placement: a root of hosts of OSDs, straw2 buckets, and the `firstn` (replicated)
//! and `indep` (erasure-coded) choose loops with retries.
//!
//! As in Ceph, a PG's draws depend only on (placement seed, replica attempt, item), so marking
//! an OSD out (reweight 0) changes the mapping of exactly the PGs whose mapping contained it:
//! every other PG makes the same draws and accepts the same items as before.

use crate::rng::{draw, hash2, mix64};

/// `CRUSH_ITEM_NONE`: an erasure-coded position with no OSD.
pub(crate) const NONE: i32 = 0x7fff_ffff;

/// The most replicas (or EC shards) of one PG; Ceph refuses pool sizes above 10.
pub(crate) const MAX_REPLICAS: usize = 10;

/// How many attempts per replica before giving up (`choose_total_tries`).
const TOTAL_TRIES: u64 = 50;

/// The stored form of [`NONE`]: OSD ids are below 10,000, so 16 bits hold them.
const NONE16: u16 = u16::MAX;

/// An ordered set of OSD ids (with [`NONE`] holes for EC pools), stored inline in 22 bytes:
/// every PG keeps four of them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct OsdSet {
    len: u8,
    ids: [u16; MAX_REPLICAS],
}

impl Default for OsdSet {
    fn default() -> Self {
        Self {
            len: 0,
            ids: [NONE16; MAX_REPLICAS],
        }
    }
}

impl OsdSet {
    pub(crate) fn from_slice(ids: &[i32]) -> Self {
        let mut s = Self::default();
        for &id in ids.iter().take(MAX_REPLICAS) {
            s.push(id);
        }
        s
    }

    pub(crate) fn push(&mut self, id: i32) {
        if usize::from(self.len) < MAX_REPLICAS {
            self.ids[usize::from(self.len)] = if (0..i32::from(NONE16)).contains(&id) {
                id as u16
            } else {
                NONE16
            };
            self.len += 1;
        }
    }

    /// Every position, holes as [`NONE`].
    pub(crate) fn iter(&self) -> impl Iterator<Item = i32> + '_ {
        self.ids[..usize::from(self.len)]
            .iter()
            .map(|&id| if id == NONE16 { NONE } else { i32::from(id) })
    }

    pub(crate) fn to_vec(self) -> Vec<i32> {
        self.iter().collect()
    }

    pub(crate) fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub(crate) fn contains(&self, id: i32) -> bool {
        self.iter().any(|x| x == id)
    }

    /// The OSDs that are not holes.
    pub(crate) fn osds(&self) -> impl Iterator<Item = i32> + '_ {
        self.iter().filter(|&id| id != NONE)
    }

    /// Number of real OSDs (holes not counted).
    #[cfg(test)]
    pub(crate) fn count(&self) -> usize {
        self.osds().count()
    }

    /// The first real OSD, or -1.
    pub(crate) fn primary(&self) -> i32 {
        self.osds().next().unwrap_or(-1)
    }
}

/// A straw2 bucket's items grouped by weight: within a group the largest draw wins (the
/// `ln(u) / w` of straw2 is monotonic in `u` for one `w`), so only one logarithm per group is
/// needed. Items of weight zero are never chosen and are left out.
#[derive(Debug, Clone, Default)]
struct Straw2 {
    groups: Vec<Group>,
}

#[derive(Debug, Clone)]
struct Group {
    weight: f64,
    items: Vec<u32>,
    keys: Vec<u64>,
}

impl Straw2 {
    fn new(items: impl IntoIterator<Item = (u32, f64, u64)>) -> Self {
        let mut groups: Vec<Group> = Vec::new();
        for (item, weight, key) in items {
            if weight.is_nan() || weight <= 0.0 {
                continue;
            }
            match groups
                .iter_mut()
                .find(|g| g.weight.to_bits() == weight.to_bits())
            {
                Some(g) => {
                    g.items.push(item);
                    g.keys.push(key);
                }
                None => groups.push(Group {
                    weight,
                    items: vec![item],
                    keys: vec![key],
                }),
            }
        }
        Self { groups }
    }

    /// The winning item for this seed, or `None` for an empty bucket.
    fn choose(&self, seed: u64) -> Option<u32> {
        let mut best: Option<(f64, u32)> = None;
        for g in &self.groups {
            let mut top = 0u64;
            let mut top_i = 0usize;
            for (i, &k) in g.keys.iter().enumerate() {
                let d = draw(seed, k);
                if d > top || i == 0 {
                    top = d;
                    top_i = i;
                }
            }
            let u = ((top >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
            let score = u.ln() / g.weight;
            if best.is_none_or(|(s, _)| score > s) {
                best = g.items.get(top_i).map(|&item| (score, item));
            }
        }
        best.map(|(_, item)| item)
    }
}

/// The placement hierarchy: root → hosts → OSDs, with crush weights in TiB.
#[derive(Debug, Clone)]
pub(crate) struct Crush {
    root: Straw2,
    hosts: Vec<Straw2>,
    /// Host index of every OSD.
    host_of: Vec<u32>,
    /// Whether replicas must be on different hosts (else on different OSDs).
    pub(crate) domain_is_host: bool,
}

impl Crush {
    /// `host_osds[h]` lists the OSD ids of host `h`; `weights[osd]` is each OSD's crush weight.
    pub(crate) fn new(host_osds: &[Vec<i32>], weights: &[f64], seed: u64) -> Self {
        let mut host_of = vec![0u32; weights.len()];
        let hosts: Vec<Straw2> = host_osds
            .iter()
            .enumerate()
            .map(|(h, osds)| {
                for &o in osds {
                    if let Some(slot) = host_of.get_mut(o as usize) {
                        *slot = h as u32;
                    }
                }
                Straw2::new(osds.iter().map(|&o| {
                    let w = weights.get(o as usize).copied().unwrap_or(0.0);
                    (o as u32, w, mix64(hash2(seed, o as u64 + 1)))
                }))
            })
            .collect();
        let root = Straw2::new(host_osds.iter().enumerate().map(|(h, osds)| {
            let w: f64 = osds
                .iter()
                .map(|&o| weights.get(o as usize).copied().unwrap_or(0.0))
                .sum();
            (
                h as u32,
                w,
                mix64(hash2(seed ^ 0x5151, (h as u64 + 1) << 20)),
            )
        }));
        let domain_is_host = host_osds.iter().filter(|h| !h.is_empty()).count() >= 3;
        Self {
            root,
            hosts,
            host_of,
            domain_is_host,
        }
    }

    /// One descent root → host → OSD for attempt `r`; `None` if the hierarchy is empty.
    fn descend(&self, x: u64, r: u64) -> Option<(u32, i32)> {
        let seed = hash2(x, r);
        let h = self.root.choose(seed)?;
        let osd = self
            .hosts
            .get(h as usize)?
            .choose(seed ^ 0x0123_4567_89ab_cdef)?;
        Some((h, osd as i32))
    }

    fn host_of(&self, osd: i32) -> u32 {
        self.host_of.get(osd as usize).copied().unwrap_or(u32::MAX)
    }

    /// The raw CRUSH mapping of placement seed `x` to `numrep` OSDs, skipping OSDs for which
    /// `is_out` holds. Replicated pools (`indep == false`) get up to `numrep` OSDs in order;
    /// erasure-coded pools get exactly `numrep` positions, [`NONE`] where no OSD was found.
    pub(crate) fn map(
        &self,
        x: u64,
        numrep: usize,
        indep: bool,
        is_out: &dyn Fn(i32) -> bool,
    ) -> OsdSet {
        let numrep = numrep.min(MAX_REPLICAS);
        if indep {
            self.map_indep(x, numrep, is_out)
        } else {
            self.map_firstn(x, numrep, is_out)
        }
    }

    fn collides(&self, chosen: impl Iterator<Item = i32>, osd: i32) -> bool {
        let mut chosen = chosen.filter(|&c| c != NONE);
        if self.domain_is_host {
            let h = self.host_of(osd);
            chosen.any(|c| self.host_of(c) == h)
        } else {
            chosen.any(|c| c == osd)
        }
    }

    fn map_firstn(&self, x: u64, numrep: usize, is_out: &dyn Fn(i32) -> bool) -> OsdSet {
        let mut out = OsdSet::default();
        for rep in 0..numrep as u64 {
            for ftotal in 0..TOTAL_TRIES {
                let Some((_, osd)) = self.descend(x, rep + ftotal) else {
                    return out;
                };
                if self.collides(out.iter(), osd) || is_out(osd) {
                    continue;
                }
                out.push(osd);
                break;
            }
        }
        out
    }

    fn map_indep(&self, x: u64, numrep: usize, is_out: &dyn Fn(i32) -> bool) -> OsdSet {
        let mut slots = [NONE; MAX_REPLICAS];
        let mut filled = [false; MAX_REPLICAS];
        for ftotal in 0..TOTAL_TRIES {
            if filled[..numrep].iter().all(|&f| f) {
                break;
            }
            for rep in 0..numrep {
                if filled[rep] {
                    continue;
                }
                let r = rep as u64 + numrep as u64 * ftotal;
                let Some((_, osd)) = self.descend(x, r) else {
                    break;
                };
                if self.collides(slots[..numrep].iter().copied(), osd) || is_out(osd) {
                    continue;
                }
                slots[rep] = osd;
                filled[rep] = true;
            }
        }
        OsdSet::from_slice(&slots[..numrep])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(hosts: usize, per: usize) -> (Vec<Vec<i32>>, Vec<f64>) {
        let host_osds: Vec<Vec<i32>> = (0..hosts)
            .map(|h| (0..per).map(|i| (h * per + i) as i32).collect())
            .collect();
        (host_osds, vec![1.0; hosts * per])
    }

    #[test]
    fn replicas_land_on_distinct_hosts_and_spread_evenly() {
        let (h, w) = cluster(10, 4);
        let crush = Crush::new(&h, &w, 1);
        let mut counts = vec![0u32; 40];
        for x in 0..4000u64 {
            let set = crush.map(hash2(x, 1), 3, false, &|_| false);
            assert_eq!(set.len(), 3);
            let hosts: Vec<u32> = set.osds().map(|o| crush.host_of(o)).collect();
            assert!(hosts[0] != hosts[1] && hosts[1] != hosts[2] && hosts[0] != hosts[2]);
            for o in set.osds() {
                counts[o as usize] += 1;
            }
        }
        // 12000 replicas over 40 OSDs: 300 each, give or take.
        assert!(
            counts.iter().all(|&c| (200..400).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn marking_out_moves_only_pgs_that_had_the_osd() {
        let (h, w) = cluster(8, 3);
        let crush = Crush::new(&h, &w, 9);
        for indep in [false, true] {
            let before: Vec<OsdSet> = (0..2000u64)
                .map(|x| crush.map(hash2(x, 2), 4, indep, &|_| false))
                .collect();
            let after: Vec<OsdSet> = (0..2000u64)
                .map(|x| crush.map(hash2(x, 2), 4, indep, &|o| o == 5))
                .collect();
            let mut moved = 0;
            for (b, a) in before.iter().zip(&after) {
                assert!(!a.contains(5));
                if b.contains(5) {
                    moved += 1;
                    if indep {
                        // Positions are stable: the one that held osd.5 now holds another OSD.
                        let pos = b.iter().position(|o| o == 5).unwrap_or(0);
                        assert_ne!(a.iter().nth(pos), Some(5), "{b:?} -> {a:?}");
                    }
                } else {
                    assert_eq!(b, a);
                }
            }
            assert!(moved > 0);
        }
    }

    #[test]
    fn weights_bias_placement() {
        let host_osds = vec![vec![0], vec![1], vec![2], vec![3]];
        let w = vec![1.0, 1.0, 1.0, 3.0];
        let crush = Crush::new(&host_osds, &w, 3);
        let mut counts = [0u32; 4];
        for x in 0..12_000u64 {
            let set = crush.map(hash2(x, 3), 1, false, &|_| false);
            counts[set.primary() as usize] += 1;
        }
        // osd.3 has half of the weight.
        assert!((5400..6600).contains(&counts[3]), "{counts:?}");
    }

    #[test]
    fn too_few_domains_leave_holes() {
        let (h, w) = cluster(3, 1);
        let crush = Crush::new(&h, &w, 4);
        let ec = crush.map(7, 4, true, &|_| false);
        assert_eq!(ec.len(), 4);
        assert_eq!(ec.count(), 3);
        let rep = crush.map(7, 4, false, &|_| false);
        assert_eq!(rep.len(), 3);
    }
}
