//! The shuttle models, in one test binary (one link, one build step):
//! the channel, the semaphore, the condition and the adaptive limiter,
//! each with many tasks, each run under the random and the PCT scheduler,
//! each ending in an exact account. See the crate docs for how to run and replay them.

mod channel;
mod channel_forms;
mod condition;
mod limit;
mod semaphore;
