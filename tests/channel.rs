//! The channel under every executor of the rig: hand-off, worker pool,
//! join pipeline, shutdown, the 4×4 stress test with exact accounting, and
//! the liveness test (consumers that take a fixed share and leave).
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::StreamExt;
use sluicegate::channel::{bounded, tracked, Channel};

#[test]
fn ping_pong_at_capacity_one_hands_every_value_over() {
    common::run(|ex| async move {
        let (tx, rx) = bounded::<u32>(1);
        let (back_tx, back_rx) = bounded::<u32>(1);
        let echo = ex.spawn(async move {
            while let Ok(v) = rx.recv().await {
                back_tx.send(v + 1).await.unwrap();
            }
        });
        for i in 0..500 {
            tx.send(i).await.unwrap();
            assert_eq!(back_rx.recv().await, Ok(i + 1), "under {}", ex.name());
        }
        drop(tx);
        echo.await;
        assert!(back_rx.recv().await.is_err());
    });
}

#[test]
fn worker_pool_collects_every_result_and_error() {
    common::run(|ex| async move {
        const WORKERS: usize = 20;
        const JOBS: u32 = 2_000;
        let (jobs_tx, jobs_rx) = bounded::<u32>(64);
        let (out_tx, out_rx) = bounded::<Result<u32, u32>>(64);
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                let (jobs, out) = (jobs_rx.clone(), out_tx.clone());
                ex.spawn(async move {
                    while let Ok(job) = jobs.recv().await {
                        // Every seventh job fails; the error is collected.
                        let res = if job % 7 == 0 { Err(job) } else { Ok(job * 2) };
                        out.send(res).await.unwrap();
                    }
                })
            })
            .collect();
        drop((jobs_rx, out_tx));
        let producer = ex.spawn(async move {
            for job in 0..JOBS {
                jobs_tx.send(job).await.unwrap();
            }
        });
        let (mut ok, mut err) = (0u64, 0u32);
        let mut results = out_rx;
        while let Some(res) = results.next().await {
            match res {
                Ok(v) => ok += u64::from(v),
                Err(_) => err += 1,
            }
        }
        producer.await;
        for w in workers {
            w.await;
        }
        let expect_err = (0..JOBS).filter(|j| j % 7 == 0).count() as u32;
        let expect_ok: u64 = (0..JOBS)
            .filter(|j| j % 7 != 0)
            .map(|j| u64::from(j) * 2)
            .sum();
        assert_eq!((ok, err), (expect_ok, expect_err), "under {}", ex.name());
    });
}

#[test]
fn producer_consumer_join_waits_for_every_task_done() {
    common::run(|ex| async move {
        let (tx, rx) = tracked::<u32>(5);
        let processed = Arc::new(AtomicUsize::new(0));
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let (rx, processed) = (rx.clone(), processed.clone());
                ex.spawn(async move {
                    while let Ok(task) = rx.recv_task().await {
                        processed.fetch_add(*task as usize, Ordering::SeqCst);
                        // dropping the task marks it done
                    }
                })
            })
            .collect();
        drop(rx);
        for i in 1..=100 {
            tx.send(i).await.unwrap();
        }
        tx.join().await;
        assert_eq!(
            processed.load(Ordering::SeqCst),
            5050,
            "under {}",
            ex.name()
        );
        assert_eq!(tx.unfinished_tasks(), 0);
        tx.close();
        for c in consumers {
            c.await;
        }
    });
}

#[test]
fn immediate_shutdown_releases_join_and_stops_consumers() {
    common::run(|ex| async move {
        let (tx, rx) = tracked::<u32>(16);
        for i in 0..16 {
            tx.send(i).await.unwrap();
        }
        let join = {
            let tx = tx.clone();
            ex.spawn(async move { tx.join().await })
        };
        let consumer = ex.spawn(async move {
            let mut seen = 0;
            while let Ok(task) = rx.recv_task().await {
                seen += 1;
                drop(task);
                if seen == 3 {
                    rx.shutdown_immediate();
                }
            }
            seen
        });
        let seen = consumer.await;
        join.await;
        assert!(seen >= 3, "under {}", ex.name());
        assert_eq!(tx.unfinished_tasks(), 0);
        assert!(tx.send(99).await.is_err());
    });
}

#[test]
fn four_producers_four_consumers_every_value_exactly_once() {
    common::run(|ex| async move {
        const PRODUCERS: u64 = 4;
        const CONSUMERS: usize = 4;
        const PER_PRODUCER: u64 = 5_000;
        let (tx, rx) = bounded::<u64>(16);
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let tx = tx.clone();
                ex.spawn(async move {
                    for i in 0..PER_PRODUCER {
                        tx.send(p * PER_PRODUCER + i).await.unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|_| {
                let rx = rx.clone();
                ex.spawn(async move {
                    let mut got = Vec::new();
                    while let Ok(v) = rx.recv().await {
                        got.push(v);
                    }
                    got
                })
            })
            .collect();
        drop(rx);
        for p in producers {
            p.await;
        }
        let mut seen = vec![0u8; (PRODUCERS * PER_PRODUCER) as usize];
        for c in consumers {
            let got = c.await;
            // Each consumer sees each producer's values in order (FIFO).
            let mut last = [None::<u64>; PRODUCERS as usize];
            for v in got {
                let p = (v / PER_PRODUCER) as usize;
                assert!(last[p] < Some(v), "out of order under {}", ex.name());
                last[p] = Some(v);
                seen[v as usize] += 1;
            }
        }
        assert!(
            seen.iter().all(|&n| n == 1),
            "every value exactly once under {}",
            ex.name()
        );
    });
}

#[test]
fn consumers_that_take_a_fixed_share_and_leave_never_hang() {
    // The shape in which a popular peer channel loses a wake-up: each
    // consumer takes its share, drops its receiver, and the rest must still
    // reach the others. A hang fails through the rig's watchdog.
    common::run(|ex| async move {
        const CONSUMERS: usize = 4;
        const SHARE: usize = 8;
        let rounds = if ex.is_multi_thread() { 2_000 } else { 300 };
        for _ in 0..rounds {
            let (tx, rx) = bounded::<usize>(2);
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|_| {
                    let rx = rx.clone();
                    ex.spawn(async move {
                        let mut sum = 0;
                        for _ in 0..SHARE {
                            sum += rx.recv().await.unwrap();
                        }
                        sum
                    })
                })
                .collect();
            drop(rx);
            for i in 0..CONSUMERS * SHARE {
                tx.send(i).await.unwrap();
            }
            let mut total = 0;
            for c in consumers {
                total += c.await;
            }
            assert_eq!(total, (0..CONSUMERS * SHARE).sum::<usize>());
            // Every receiver is gone: the channel is closed.
            assert!(tx.send(0).await.is_err());
        }
    });
}

static STATIC_JOBS: Channel<u32, 4> = Channel::new();

#[test]
fn inline_static_channel_works_under_every_executor() {
    common::run(|ex| async move {
        let consumer = ex.spawn(async {
            let mut sum = 0;
            for _ in 0..100 {
                sum += STATIC_JOBS.recv().await.unwrap();
            }
            sum
        });
        for i in 0..100 {
            STATIC_JOBS.send(i).await.unwrap();
        }
        assert_eq!(consumer.await, 4950, "under {}", ex.name());
    });
}

#[test]
fn inline_stream_and_sink_deliver_every_value_exactly_once() {
    use futures::SinkExt;
    common::run(|ex| async move {
        // A fresh channel per executor: this test closes it.
        let ch: &'static Channel<u32, 2> = Box::leak(Box::new(Channel::new()));
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                ex.spawn(async move {
                    let mut stream = std::pin::pin!(ch.stream());
                    let (mut n, mut sum) = (0u32, 0u64);
                    while let Some(v) = stream.next().await {
                        n += 1;
                        sum += u64::from(v);
                    }
                    (n, sum)
                })
            })
            .collect();
        let producers: Vec<_> = (0..2u32)
            .map(|p| {
                ex.spawn(async move {
                    let mut sink = std::pin::pin!(ch.sink());
                    let mut values = futures::stream::iter(p * 300..(p + 1) * 300).map(Ok);
                    sink.send_all(&mut values).await.unwrap();
                    sink.close().await.unwrap();
                })
            })
            .collect();
        for p in producers {
            p.await;
        }
        ch.close();
        let (mut n, mut sum) = (0, 0);
        for c in consumers {
            let (cn, csum) = c.await;
            n += cn;
            sum += csum;
        }
        assert_eq!((n, sum), (600, (0..600u64).sum()), "under {}", ex.name());
    });
}

#[test]
fn cancelled_receivers_under_load_lose_nothing() {
    common::run(|ex| async move {
        let (tx, rx) = bounded::<u32>(4);
        let received = Arc::new(AtomicUsize::new(0));
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let (rx, received) = (rx.clone(), received.clone());
                ex.spawn(async move {
                    loop {
                        // Race every recv against a yield; the loser is
                        // dropped, possibly after being handed a value.
                        let recv = rx.recv();
                        let yielded = futures_lite::future::yield_now();
                        futures::pin_mut!(recv, yielded);
                        match futures::future::select(recv, yielded).await {
                            futures::future::Either::Left((Ok(_), _)) => {
                                received.fetch_add(1, Ordering::SeqCst);
                            }
                            futures::future::Either::Left((Err(_), _)) => return,
                            futures::future::Either::Right(_) => {}
                        }
                    }
                })
            })
            .collect();
        drop(rx);
        for i in 0..1_500 {
            tx.send(i).await.unwrap();
        }
        drop(tx);
        for c in consumers {
            c.await;
        }
        assert_eq!(
            received.load(Ordering::SeqCst),
            1_500,
            "under {}",
            ex.name()
        );
    });
}
