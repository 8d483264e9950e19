//! The pool contestants, shared by `benches/pool.rs` and
//! `examples/pool_ab.rs` (included with `#[path]`; the peers are
//! dev-dependencies, which a library target could not use).

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::hint::black_box;

/// The pooled object.
pub struct Conn(pub u64);

/// A pool as the benches use it.
pub trait BenchPool: Send + Sync + 'static {
    const NAME: &'static str;
    /// A pool of `size` objects; called inside the runtime (bb8 spawns).
    fn with_size(size: usize) -> Self;
    /// One get, an optional yield while holding the object, one return.
    fn cycle(&self, hold: bool) -> impl Future<Output = ()> + Send + '_;
}

async fn hold_it(hold: bool) {
    if hold {
        tokio::task::yield_now().await;
    }
}

// sluicegate -----------------------------------------------------------------

pub struct SgManager;

impl sluicegate::pool::Manager<Conn> for SgManager {
    type Error = Infallible;
    type Create<'a> = Ready<Result<Conn, Infallible>>;
    type Recycle<'a> = Ready<Result<Conn, Infallible>>;

    fn create(&self) -> Self::Create<'_> {
        ready(Ok(Conn(1)))
    }

    fn recycle(&self, conn: Conn) -> Self::Recycle<'_> {
        ready(Ok(conn))
    }
}

impl BenchPool for sluicegate::Pool<Conn, SgManager> {
    const NAME: &'static str = "sluicegate";

    fn with_size(size: usize) -> Self {
        sluicegate::Pool::new(SgManager, size)
    }

    async fn cycle(&self, hold: bool) {
        let conn = self.get().await.unwrap();
        hold_it(hold).await;
        black_box(conn.0);
    }
}

/// sluicegate's unmanaged form, filled up front.
pub struct SgUnmanaged(sluicegate::Pool<Conn>);

impl BenchPool for SgUnmanaged {
    const NAME: &'static str = "sluicegate-unmanaged";

    fn with_size(size: usize) -> Self {
        let pool = sluicegate::Pool::unmanaged(size);
        for _ in 0..size {
            pool.add(Conn(1)).unwrap();
        }
        Self(pool)
    }

    async fn cycle(&self, hold: bool) {
        let conn = self.0.get().await.unwrap();
        hold_it(hold).await;
        black_box(conn.0);
    }
}

// deadpool -------------------------------------------------------------------

pub struct DpManager;

impl deadpool::managed::Manager for DpManager {
    type Type = Conn;
    type Error = Infallible;

    async fn create(&self) -> Result<Conn, Infallible> {
        Ok(Conn(1))
    }

    async fn recycle(
        &self,
        _: &mut Conn,
        _: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<Infallible> {
        Ok(())
    }
}

impl BenchPool for deadpool::managed::Pool<DpManager> {
    const NAME: &'static str = "deadpool";

    fn with_size(size: usize) -> Self {
        deadpool::managed::Pool::builder(DpManager)
            .max_size(size)
            .build()
            .unwrap()
    }

    async fn cycle(&self, hold: bool) {
        let conn = self.get().await.unwrap();
        hold_it(hold).await;
        black_box(conn.0);
    }
}

pub struct DpUnmanaged(deadpool::unmanaged::Pool<Conn>);

impl BenchPool for DpUnmanaged {
    const NAME: &'static str = "deadpool-unmanaged";

    fn with_size(size: usize) -> Self {
        let pool = deadpool::unmanaged::Pool::new(size);
        for _ in 0..size {
            pool.try_add(Conn(1)).map_err(|_| "full").unwrap();
        }
        Self(pool)
    }

    async fn cycle(&self, hold: bool) {
        let conn = self.0.get().await.unwrap();
        hold_it(hold).await;
        black_box(conn.0);
    }
}

// bb8 ------------------------------------------------------------------------

pub struct Bb8Manager;

impl bb8::ManageConnection for Bb8Manager {
    type Connection = Conn;
    type Error = Infallible;

    fn connect(&self) -> impl Future<Output = Result<Conn, Infallible>> + Send {
        ready(Ok(Conn(1)))
    }

    fn is_valid(&self, _: &mut Conn) -> impl Future<Output = Result<(), Infallible>> + Send {
        ready(Ok(()))
    }

    fn has_broken(&self, _: &mut Conn) -> bool {
        false
    }
}

impl BenchPool for bb8::Pool<Bb8Manager> {
    const NAME: &'static str = "bb8";

    fn with_size(size: usize) -> Self {
        bb8::Pool::builder()
            .max_size(u32::try_from(size).unwrap())
            .build_unchecked(Bb8Manager)
    }

    async fn cycle(&self, hold: bool) {
        let conn = self.get().await.unwrap();
        hold_it(hold).await;
        black_box(conn.0);
    }
}
