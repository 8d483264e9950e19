//! A discrete-event simulation, in virtual time, of fixed and adaptive
//! concurrency limits in front of a server of unknown capacity.
//!
//! ```text
//! cargo run --release -p sluicegate-benches --example limit_sim [docs/limit-simulation.svg] [timeout-ms]
//! ```
//!
//! The server has a hidden capacity of `C` workers, each call taking 10 ms
//! on average (uniform in 8..12 ms); calls past `C` wait in its queue, so
//! latency grows with load, and calls past `4C` queued are refused at once
//! (a 503 after 1 ms). Clients give up on a call after 18 ms (a timeout;
//! the server still does the work, wasted): more than any call takes
//! without a queue, less than the 20 ms that 40 calls in flight take once
//! the server has halved, so yesterday's right limit times out today. Clients offer 6,000 calls a
//! second (Poisson), 1.5× what the server can do at first; halfway
//! through, `C` halves (40 → 20), and the same load is 3× its capacity.
//!
//! Each strategy is sluicegate's `AdaptiveLimiter` on a `ManualClock`,
//! with a fixed limit (too low, right for the first half, too high) or an
//! algorithm (AIMD, Gradient2, Vegas: Netflix's defaults, but with a floor
//! of 1 instead of 20, which is the second half's capacity). A call the
//! limiter turns away (`try_acquire` fails) is *shed* at the client and
//! never reaches the server; a 503 or a timeout is a *dropped* sample. Latency is
//! admission to reply, for the calls that succeeded.
//!
//! It prints a Markdown table and writes an SVG chart (the limit over time,
//! and goodput over time, for each strategy).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::Duration;

use plotters::prelude::*;
use sluicegate::limit::{
    AdaptiveLimiter, Aimd, Fixed, Gradient2, LimitAlgorithm, LimitToken, Vegas,
};
use sluicegate::time::ManualClock;

const SECS: u64 = 60;
const STEP_AT: u64 = 30;
const C_BEFORE: usize = 40;
const C_AFTER: usize = 20;
const SERVICE_MEAN_MS: f64 = 10.0;
const OFFERED_PER_SEC: f64 = 6000.0;
const REJECT_RTT: Duration = Duration::from_millis(1);
const QUEUE_PER_WORKER: usize = 4;
const NS: u64 = 1_000_000_000;

/// xorshift64*: deterministic, seeded, uniform in [0, 1).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Arrival,
    /// A call finishes: its id, and whether the server refused it.
    Reply(u64, bool),
    /// The client gives up on a call.
    Timeout(u64),
}

struct Run {
    name: &'static str,
    /// (second, mean limit over the events of the 100 ms before).
    limits: Vec<(f64, f64)>,
    /// Successes per second, per 1 s bin.
    goodput: Vec<u64>,
    latencies_ms: Vec<f64>,
    successes: u64,
    successes_after: u64,
    errors: u64,
    timeouts: u64,
    shed: u64,
}

fn simulate(
    name: &'static str,
    algorithm: Box<dyn LimitAlgorithm + Send>,
    client_timeout: Duration,
) -> Run {
    let clock = ManualClock::new();
    let limiter = AdaptiveLimiter::new(&clock, algorithm);
    let mut rng = Rng(0x05EE_D0F1_1517);
    let mut events = BinaryHeap::new();
    let mut seq = 0u64;
    let mut push = |events: &mut BinaryHeap<_>, at: u64, e: Event| {
        seq += 1;
        events.push(Reverse((at, seq, e)));
    };
    push(&mut events, 0, Event::Arrival);

    // A call's token (until its verdict) and its start.
    let mut calls: HashMap<u64, (Option<LimitToken<'_, _, _>>, u64)> = HashMap::new();
    let mut next_id = 0u64;
    let mut capacity = C_BEFORE;
    let mut busy = 0usize;
    let mut queue: VecDeque<u64> = VecDeque::new();
    let mut run = Run {
        name,
        limits: Vec::new(),
        goodput: vec![0; SECS as usize],
        latencies_ms: Vec::new(),
        successes: 0,
        successes_after: 0,
        errors: 0,
        timeouts: 0,
        shed: 0,
    };
    let mut next_sample = NS / 10;
    let (mut limit_sum, mut limit_events) = (0f64, 0u32);
    let service = |rng: &mut Rng| {
        let ms = SERVICE_MEAN_MS * (0.8 + 0.4 * rng.next());
        (ms * 1e6) as u64
    };

    while let Some(Reverse((at, _, event))) = events.pop() {
        if at >= SECS * NS {
            break;
        }
        while next_sample <= at {
            let mean = if limit_events > 0 {
                limit_sum / f64::from(limit_events)
            } else {
                limiter.limit() as f64
            };
            run.limits.push((next_sample as f64 / NS as f64, mean));
            (limit_sum, limit_events) = (0.0, 0);
            next_sample += NS / 10;
        }
        limit_sum += limiter.limit() as f64;
        limit_events += 1;
        clock.advance_to(Duration::from_nanos(at));
        if at >= STEP_AT * NS {
            capacity = C_AFTER;
        }
        match event {
            Event::Arrival => {
                let gap = -(1.0 - rng.next()).ln() / OFFERED_PER_SEC;
                push(&mut events, at + (gap * NS as f64) as u64, Event::Arrival);
                let Ok(token) = limiter.try_acquire() else {
                    run.shed += 1;
                    continue;
                };
                let id = next_id;
                next_id += 1;
                calls.insert(id, (Some(token), at));
                let timeout = client_timeout.as_nanos() as u64;
                push(&mut events, at + timeout, Event::Timeout(id));
                if busy < capacity {
                    busy += 1;
                    push(&mut events, at + service(&mut rng), Event::Reply(id, false));
                } else if queue.len() < QUEUE_PER_WORKER * capacity {
                    queue.push_back(id);
                } else {
                    let rtt = REJECT_RTT.as_nanos() as u64;
                    push(&mut events, at + rtt, Event::Reply(id, true));
                }
            }
            Event::Timeout(id) => {
                if let Some((token @ Some(_), _)) = calls.get_mut(&id) {
                    run.timeouts += 1;
                    token.take().unwrap().dropped();
                }
            }
            Event::Reply(id, refused) => {
                let (token, start) = calls.remove(&id).expect("a call at the server");
                if refused {
                    if let Some(token) = token {
                        run.errors += 1;
                        token.dropped();
                    }
                    continue;
                }
                // A reply after the client's timeout is wasted work.
                if let Some(token) = token {
                    token.success();
                    run.successes += 1;
                    if at >= STEP_AT * NS {
                        run.successes_after += 1;
                    }
                    run.goodput[(at / NS) as usize] += 1;
                    run.latencies_ms.push((at - start) as f64 / 1e6);
                }
                // A worker frees up: the next queued call starts (a worker
                // beyond a halved capacity retires instead).
                busy -= 1;
                while busy < capacity {
                    let Some(next) = queue.pop_front() else { break };
                    busy += 1;
                    push(
                        &mut events,
                        at + service(&mut rng),
                        Event::Reply(next, false),
                    );
                }
            }
        }
    }
    // Calls still in flight at the end are neither: drop them as ignored.
    drop(calls);
    run
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "docs/limit-simulation.svg".to_owned());
    let timeout_ms: u64 = std::env::args()
        .nth(2)
        .map_or(18, |s| s.parse().expect("a timeout in ms"));
    let client_timeout = Duration::from_millis(timeout_ms);
    let floor = |a: Aimd| a.limits(1, 200);
    let strategies: Vec<(&'static str, Box<dyn LimitAlgorithm + Send>)> = vec![
        ("fixed 10 (too low)", Box::new(Fixed::new(10))),
        ("fixed 40 (right, then too high)", Box::new(Fixed::new(40))),
        ("fixed 160 (too high)", Box::new(Fixed::new(160))),
        ("AIMD", Box::new(floor(Aimd::new()))),
        ("Gradient2", Box::new(Gradient2::new().limits(1, 200))),
        ("Vegas", Box::new(Vegas::new().limits(1, 1000))),
    ];
    let runs: Vec<Run> = strategies
        .into_iter()
        .map(|(name, a)| simulate(name, a, client_timeout))
        .collect();

    let best_before = (C_BEFORE as f64 / SERVICE_MEAN_MS * 1000.0) as u64;
    let best_after = (C_AFTER as f64 / SERVICE_MEAN_MS * 1000.0) as u64;
    println!(
        "Server: {C_BEFORE} workers then {C_AFTER} from {STEP_AT} s, 10 ms per call, queue of 4C, \
         client timeout {timeout_ms} ms; offered {OFFERED_PER_SEC} calls/s for {SECS} s. Best goodput: {best_before}/s, then {best_after}/s.\n"
    );
    println!("| strategy | goodput (calls/s) | before the step | after the step | p50 latency | p99 latency | timeouts | 503s | shed by the limiter | final limit |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &runs {
        let mut l = r.latencies_ms.clone();
        l.sort_by(f64::total_cmp);
        println!(
            "| {} | {:.0} | {:.0} | {:.0} | {:.1} ms | {:.1} ms | {} | {} | {} | {:.0} |",
            r.name,
            r.successes as f64 / SECS as f64,
            (r.successes - r.successes_after) as f64 / STEP_AT as f64,
            r.successes_after as f64 / (SECS - STEP_AT) as f64,
            percentile(&l, 0.5),
            percentile(&l, 0.99),
            r.timeouts,
            r.errors,
            r.shed,
            r.limits.last().map_or(0.0, |&(_, l)| l),
        );
    }

    draw(&out, &runs)?;
    println!("\nchart: {out}");
    Ok(())
}

fn draw(path: &str, runs: &[Run]) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(dir) = std::path::Path::new(path).parent() {
        std::fs::create_dir_all(dir)?;
    }
    let root = SVGBackend::new(path, (960, 720)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(360);
    let colors = [
        RGBColor(150, 150, 150),
        RGBColor(90, 90, 90),
        RGBColor(20, 20, 20),
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
    ];
    let styles = |i: usize| ShapeStyle::from(&colors[i % colors.len()]).stroke_width(2);

    let mut chart = ChartBuilder::on(&top)
        .caption(
            "Concurrency limit, mean per 100 ms (server capacity 40, then 20 from 30 s)",
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(45)
        .build_cartesian_2d(0f64..SECS as f64, 0f64..210f64)?;
    chart
        .configure_mesh()
        .x_desc("virtual time (s)")
        .y_desc("limit")
        .draw()?;
    for (i, r) in runs.iter().enumerate() {
        chart
            .draw_series(LineSeries::new(r.limits.iter().copied(), styles(i)))?
            .label(r.name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], styles(i)));
    }
    // On top of the strategies, so that it shows where they cover it.
    let capacity = ShapeStyle::from(&RGBColor(255, 127, 14).mix(0.8)).stroke_width(3);
    chart
        .draw_series(LineSeries::new(
            [
                (0.0, C_BEFORE as f64),
                (STEP_AT as f64, C_BEFORE as f64),
                (STEP_AT as f64, C_AFTER as f64),
                (SECS as f64, C_AFTER as f64),
            ],
            capacity,
        ))?
        .label("server capacity C")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], capacity));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;

    let max_goodput = runs
        .iter()
        .flat_map(|r| r.goodput.iter().copied())
        .max()
        .unwrap_or(1) as f64;
    let mut chart = ChartBuilder::on(&bottom)
        .caption("Goodput (successful calls per second)", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(45)
        .build_cartesian_2d(0f64..SECS as f64, 0f64..max_goodput * 1.1)?;
    chart
        .configure_mesh()
        .x_desc("virtual time (s)")
        .y_desc("calls/s")
        .draw()?;
    for (i, r) in runs.iter().enumerate() {
        chart.draw_series(LineSeries::new(
            r.goodput
                .iter()
                .enumerate()
                .map(|(s, &n)| (s as f64 + 0.5, n as f64)),
            styles(i),
        ))?;
    }
    root.present()?;
    Ok(())
}
