//! How a comparison is measured and summarised: client CPU, trimmed means, medians, ratios with
//! their spread over the rounds, and the verdict against a target.

use std::future::Future;
use std::time::{Duration, Instant};

use neux_oauth::AuthCode;
use serde_json::{Value, json};

/// The bench's sizes: full, or `--quick` (coarse).
pub struct Sizes {
    pub rounds: usize,
    pub per_round: usize,
    /// Logins per side per round of the 64-wide comparisons.
    pub batch: usize,
    /// Logins per width of the scaling case.
    pub scaling_total: usize,
}

pub fn sizes() -> Sizes {
    let quick =
        std::env::args().any(|a| a == "--quick") || std::env::var_os("NEUX_BENCH_QUICK").is_some();
    if quick {
        Sizes {
            rounds: 5,
            per_round: 40,
            batch: 256,
            scaling_total: 2000,
        }
    } else {
        Sizes {
            rounds: 31,
            per_round: 300,
            // Long enough (a quarter to a whole second) that a slow patch of the machine does
            // not decide a round alone.
            batch: 2048,
            scaling_total: 10_000,
        }
    }
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The mean with the lowest and highest tenth left out. Login times on a shared machine have a
/// long tail (a 10 ms stall of the host lands on one login of one side and would move a plain
/// mean by 20 %); trimming both ends alike keeps the body of the distribution, where a cost of
/// the code shows.
pub fn trimmed(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let cut = v.len() / 10;
    let kept = &v[cut..v.len() - cut];
    kept.iter().sum::<f64>() / kept.len() as f64
}

/// One side-by-side figure: the medians of each side and every round's ratio.
pub struct Pair {
    pub ours: f64,
    pub baseline: f64,
    /// ours / baseline, one per round.
    pub ratios: Vec<f64>,
}

impl Pair {
    pub fn new(o: Vec<f64>, b: Vec<f64>) -> Self {
        let ratios = o.iter().zip(&b).map(|(o, b)| o / b).collect();
        Self {
            ours: median(o),
            baseline: median(b),
            ratios,
        }
    }
}

/// CPU time this thread has used. The client side of every comparison runs on this one thread
/// (a current-thread runtime; the sandbox has its own runtime and threads), so the difference
/// over a round is the client's CPU alone, system calls included: what a login costs the
/// application, free of the scheduling noise that moves wall time on a shared machine.
pub fn client_cpu() -> Duration {
    // Under valgrind (callgrind profiles of NEUX_BENCH_PROFILE) rustix cannot find the vDSO and
    // faults; instruction counts are the measure there anyway.
    static UNDER_VALGRIND: std::sync::LazyLock<bool> = std::sync::LazyLock::new(|| {
        std::env::var("LD_PRELOAD").is_ok_and(|p| p.contains("vgpreload"))
    });
    if *UNDER_VALGRIND {
        return Duration::ZERO;
    }
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// Wall time and client CPU, in microseconds.
#[derive(Clone, Copy)]
pub struct Cost {
    pub wall: f64,
    pub cpu: f64,
}

impl Cost {
    /// A round's typical cost: the trimmed mean of each measure.
    fn trimmed_mean(costs: &[Cost]) -> Cost {
        Cost {
            wall: trimmed(costs.iter().map(|c| c.wall).collect()),
            cpu: trimmed(costs.iter().map(|c| c.cpu).collect()),
        }
    }
}

/// The wall time and client CPU of one future, in microseconds.
pub async fn timed(f: impl Future<Output = ()>) -> Cost {
    let (t, cpu) = (Instant::now(), client_cpu());
    f.await;
    Cost {
        cpu: (client_cpu() - cpu).as_secs_f64() * 1e6,
        wall: t.elapsed().as_secs_f64() * 1e6,
    }
}

/// Times `per_round` sequential logins of each side per round, alternating the sides login by
/// login (and which goes first), so a slow patch of the machine, which lasts from milliseconds to
/// seconds, falls on both sides alike; returns the wall-time and client-CPU comparisons
/// (microseconds per login, one ratio per round). `codes(n)` mints `n` fresh codes.
pub async fn interleaved<FO, FB, O, B>(
    s: &Sizes,
    codes: impl Fn(usize) -> Vec<AuthCode>,
    mut ours: FO,
    mut baseline: FB,
) -> (Pair, Pair)
where
    FO: FnMut(AuthCode) -> O,
    FB: FnMut(AuthCode) -> B,
    O: Future<Output = ()>,
    B: Future<Output = ()>,
{
    // Warm both connection pools.
    for code in codes(5) {
        ours(code).await;
    }
    for code in codes(5) {
        baseline(code).await;
    }
    let (mut o, mut b) = (Vec::new(), Vec::new());
    for round in 0..s.rounds {
        let codes = codes(s.per_round * 2);
        let (mut co, mut cb) = (Vec::new(), Vec::new());
        for (i, pair) in codes.chunks_exact(2).enumerate() {
            let (a, z) = (pair[0].clone(), pair[1].clone());
            if (round + i) % 2 == 0 {
                co.push(timed(ours(a)).await);
                cb.push(timed(baseline(z)).await);
            } else {
                cb.push(timed(baseline(a)).await);
                co.push(timed(ours(z)).await);
            }
        }
        o.push(Cost::trimmed_mean(&co));
        b.push(Cost::trimmed_mean(&cb));
    }
    let side = |costs: &[Cost], f: fn(&Cost) -> f64| costs.iter().map(f).collect::<Vec<_>>();
    (
        Pair::new(side(&o, |c| c.wall), side(&b, |c| c.wall)),
        Pair::new(side(&o, |c| c.cpu), side(&b, |c| c.cpu)),
    )
}

/// A case of the summary, with the median ratio, its spread over the rounds (min-max), and
/// whether the spread clears `target` (`at_most`: lower is better).
pub fn case(name: &str, unit: &str, p: &Pair, target: Option<(f64, bool)>) -> Value {
    // A run built with the metrics feature names its other cases apart from the same cases
    // built without it.
    let tagged = if cfg!(feature = "metrics") && !name.contains("metrics:") {
        format!("{name} [metrics feature, no recorder]")
    } else {
        name.to_owned()
    };
    let name = tagged.as_str();
    let ratio = median(p.ratios.clone());
    let (lo, hi) = spread(&p.ratios);
    let verdict = target.map(|(t, at_most)| {
        let (worst, best) = if at_most { (hi, lo) } else { (lo, hi) };
        let meets = |r: f64| if at_most { r <= t } else { r >= t };
        if meets(worst) {
            "met"
        } else if !meets(best) {
            "missed"
        } else if meets(ratio) {
            "median met, spread crosses target"
        } else {
            "median missed, spread crosses target"
        }
    });
    println!(
        "{name}: ours {:.1}, baseline {:.1} {unit}; ratio {ratio:.3} (rounds {lo:.3}-{hi:.3}){}",
        p.ours,
        p.baseline,
        verdict.map(|v| format!("; target {v}")).unwrap_or_default()
    );
    json!({
        "name": name, "ours": p.ours, "baseline": p.baseline, "unit": unit, "ratio": ratio,
        "spread": [lo, hi], "rounds": p.ratios.len(),
        "target": target.map(|(t, at_most)| format!("{} {t}", if at_most { "<=" } else { ">=" })),
        "verdict": verdict,
    })
}

/// The lowest and highest of `v`.
pub fn spread(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(*r), hi.max(*r)))
}

/// The rows of one sequential comparison: wall time, then the client's CPU.
pub fn sequential_cases(
    name: &str,
    unit: &str,
    (wall, cpu): &(Pair, Pair),
    target: f64,
) -> [Value; 2] {
    [
        case(name, unit, wall, Some((target, true))),
        case(
            &format!("{name} (client CPU)"),
            &format!("CPU {unit}"),
            cpu,
            Some((target, true)),
        ),
    ]
}
