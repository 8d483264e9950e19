//! Compile-time checks of auto traits.

#[allow(dead_code)]
pub fn assert_send<T: Send>() {}
pub fn assert_send_sync<T: Send + Sync>() {}
pub fn assert_unpin<T: Unpin>() {}

/// Fails to compile if `$t: Unpin`: with the second impl applicable, the
/// `_` in `AmbiguousIfUnpin<_>` has two solutions.
#[allow(unused_macros)]
macro_rules! assert_not_unpin {
    ($t:ty) => {{
        trait AmbiguousIfUnpin<A> {
            fn check() {}
        }
        impl<T: ?Sized> AmbiguousIfUnpin<()> for T {}
        impl<T: ?Sized + Unpin> AmbiguousIfUnpin<u8> for T {}
        let _ = <$t as AmbiguousIfUnpin<_>>::check;
    }};
}
#[allow(unused_imports)]
pub(crate) use assert_not_unpin;

/// Fails to compile if `$t: Send`, as [`assert_not_unpin!`] does for `Unpin`.
#[allow(unused_macros)]
macro_rules! assert_not_send {
    ($t:ty) => {{
        trait AmbiguousIfSend<A> {
            fn check() {}
        }
        impl<T: ?Sized> AmbiguousIfSend<()> for T {}
        impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}
        let _ = <$t as AmbiguousIfSend<_>>::check;
    }};
}
#[allow(unused_imports)]
pub(crate) use assert_not_send;
