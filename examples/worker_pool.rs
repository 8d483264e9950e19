//! The README's example: a worker pool with a semaphore and a timeout,
//! written once against sluicegate's traits and run on tokio and on smol.
//!
//! ```text
//! cargo run --example worker_pool --features tokio,smol -- tokio
//! cargo run --example worker_pool --features tokio,smol -- smol
//! ```
//!
//! On embassy the same `crawl` runs with `EmbassyTimer` (feature
//! `embassy`) from an `#[embassy_executor::task]`.

use std::time::Duration;

use futures::future::join_all;
use sluicegate::time::{timeout, Sleeper};
use sluicegate::Semaphore;

/// Fetches every URL with at most 4 requests in flight, giving each 250 ms.
/// `timer` is whatever the application runs on.
async fn crawl<S: Sleeper>(timer: &S, urls: &[&str]) -> (usize, usize) {
    let slots = Semaphore::new(4);
    let results = join_all(urls.iter().map(|url| async {
        let _slot = slots.acquire().await.expect("never closed");
        timeout(timer, Duration::from_millis(250), fetch(timer, url)).await
    }))
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    (ok, results.len() - ok)
}

/// A stand-in for an HTTP request: slow for one URL in five.
async fn fetch<S: Sleeper>(timer: &S, url: &str) -> usize {
    let slow = url.ends_with('4') || url.ends_with('9');
    timer
        .sleep(Duration::from_millis(if slow { 400 } else { 20 }))
        .await;
    url.len()
}

fn urls() -> Vec<String> {
    (0..20)
        .map(|i| format!("https://example.org/{i}"))
        .collect()
}

fn main() {
    let urls = urls();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let (ok, timed_out) = match std::env::args().nth(1).as_deref() {
        Some("smol") => smol::block_on(crawl(&sluicegate::time::AsyncIoTimer, &urls)),
        _ => tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(crawl(&sluicegate::time::TokioTimer, &urls)),
    };
    println!("{ok} fetched, {timed_out} timed out");
    assert_eq!(ok + timed_out, urls.len());
}
