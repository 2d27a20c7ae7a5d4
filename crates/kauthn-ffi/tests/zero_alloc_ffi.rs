//! A steady-state call through the C ABI (a reused result handle) allocates nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    unsafe_code
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use kauthn_ffi::*;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts calls on this thread.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn count() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn reused_result_handle_makes_calls_allocation_free() {
    let csv = b"s3cret,alice,uid-1,\"dev,ops\"\n";
    let mut cfg = core::ptr::null_mut();
    let mut auth = core::ptr::null_mut();
    let mut result = core::ptr::null_mut();
    // SAFETY: every pointer passed is valid for the call, as the header documents.
    unsafe {
        assert_eq!(kauthn_config_new(&mut cfg), KauthnResult::Ok);
        assert_eq!(
            kauthn_config_set_token_file_csv(cfg, csv.as_ptr(), csv.len()),
            KauthnResult::Ok
        );
        assert_eq!(kauthn_config_set_anonymous(cfg, true), KauthnResult::Ok);
        assert_eq!(kauthn_authenticator_new(cfg, &mut auth), KauthnResult::Ok);
        assert_eq!(kauthn_auth_result_new(&mut result), KauthnResult::Ok);
        let name = b"Authorization";
        let value = b"Bearer s3cret";
        let header = kauthn_header {
            name: kauthn_bytes {
                data: name.as_ptr(),
                len: name.len(),
            },
            value: kauthn_bytes {
                data: value.as_ptr(),
                len: value.len(),
            },
        };
        let path = b"/api";
        // Warm up: the first call fills the token cache.
        kauthn_authenticator_authenticate_token(auth, b"s3cret".as_ptr(), 6, 1_800_000_000, result);
        for round in 0..3 {
            let before = count();
            let code = kauthn_authenticator_authenticate_token(
                auth,
                b"s3cret".as_ptr(),
                6,
                1_800_000_000,
                result,
            );
            assert_eq!(code, KauthnResult::Ok);
            assert_eq!(
                kauthn_auth_result_status(result),
                KauthnStatus::Authenticated
            );
            let code = kauthn_authenticator_authenticate_request(
                auth,
                &header,
                1,
                core::ptr::null(),
                0,
                path.as_ptr(),
                path.len(),
                1_800_000_000,
                result,
            );
            assert_eq!(code, KauthnResult::Ok);
            let (mut p, mut n) = (core::ptr::null(), 0usize);
            assert_eq!(
                kauthn_auth_result_name(result, &mut p, &mut n),
                KauthnResult::Ok
            );
            assert_eq!(core::slice::from_raw_parts(p, n), b"alice");
            let mut buf = [0u8; 64];
            let mut len = 0usize;
            kauthn_authenticator_authenticate_token(
                auth,
                b"wrong".as_ptr(),
                5,
                1_800_000_000,
                result,
            );
            assert_eq!(
                kauthn_auth_result_message(result, buf.as_mut_ptr(), buf.len(), &mut len),
                KauthnResult::Ok
            );
            assert_eq!(count() - before, 0, "round {round} allocated");
        }
        kauthn_auth_result_free(result);
        kauthn_authenticator_free(auth);
        kauthn_config_free(cfg);
    }
}
