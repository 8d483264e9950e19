//! embassy-time's driver on the core's SysTick, which both machines have:
//! one tick a millisecond, counted in the SysTick exception, with a small
//! fixed-size timer queue.
//!
//! The same exception runs the interrupt half of a scenario (a hook, e.g.
//! one that sets an `Event`) and a watchdog that ends the run with a failure
//! when a scenario stops making progress (a task spinning on a lock would
//! keep the executor, and so any timeout, from ever running again).

use core::cell::{Cell, RefCell};
use core::task::Waker;

use cortex_m::peripheral::scb::VectActive;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::{SCB, SYST};
use cortex_m_rt::exception;
use critical_section::Mutex;
use embassy_time_driver::Driver;
use embassy_time_queue_utils::Queue;

use crate::machine;

/// embassy-time's tick rate: the `tick-hz-1_000` feature.
const TICK_HZ: u32 = 1_000;
const _: () = assert!(embassy_time_driver::TICK_HZ == TICK_HZ as u64);

struct State {
    now: u64,
    /// The earliest deadline in `queue` (`u64::MAX`: none).
    alarm: u64,
    queue: Queue,
}

struct SysTickDriver(Mutex<RefCell<State>>);

embassy_time_driver::time_driver_impl!(static DRIVER: SysTickDriver = SysTickDriver(
    Mutex::new(RefCell::new(State { now: 0, alarm: u64::MAX, queue: Queue::new() }))
));

impl Driver for SysTickDriver {
    fn now(&self) -> u64 {
        critical_section::with(|cs| self.0.borrow_ref(cs).now)
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        critical_section::with(|cs| {
            let mut state = self.0.borrow_ref_mut(cs);
            if state.queue.schedule_wake(at, waker) {
                let now = state.now;
                // Wakes at once what is already due.
                state.alarm = state.queue.next_expiration(now);
            }
        });
    }
}

/// Called from the SysTick exception with the new tick count.
pub type Hook = fn(u64);

static HOOK: Mutex<Cell<Option<Hook>>> = Mutex::new(Cell::new(None));
/// The scenario that runs, and the tick by which it must have ended.
static WATCHDOG: Mutex<Cell<(&str, u64)>> = Mutex::new(Cell::new(("", u64::MAX)));

/// Starts the tick (and so embassy time).
pub fn start(mut syst: SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(machine::CLOCK_HZ / TICK_HZ - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

/// Runs `hook` on every tick from now on (`None`: no more).
pub fn set_hook(hook: Option<Hook>) {
    critical_section::with(|cs| HOOK.borrow(cs).set(hook));
}

/// Fails the run if `scenario` is still running `ms` milliseconds from now
/// (`None`: disarm).
pub fn watchdog(scenario: Option<(&'static str, u64)>) {
    let armed = match scenario {
        Some((name, ms)) => (
            name,
            embassy_time_driver::now() + ms * u64::from(TICK_HZ) / 1_000,
        ),
        None => ("", u64::MAX),
    };
    critical_section::with(|cs| WATCHDOG.borrow(cs).set(armed));
}

/// Whether this code runs in an exception handler (not in thread mode).
pub fn in_interrupt() -> bool {
    SCB::vect_active() != VectActive::ThreadMode
}

#[exception]
fn SysTick() {
    let (now, hook, (scenario, deadline)) = critical_section::with(|cs| {
        let mut state = DRIVER.0.borrow_ref_mut(cs);
        state.now += 1;
        let now = state.now;
        if now >= state.alarm {
            state.alarm = state.queue.next_expiration(now);
        }
        (now, HOOK.borrow(cs).get(), WATCHDOG.borrow(cs).get())
    });
    // First, so that a hook that never returns cannot hide a hang.
    if now >= deadline {
        crate::fail_hung(scenario);
    }
    if let Some(hook) = hook {
        hook(now);
    }
}
