//! The process's memory allocator: mimalloc instead of glibc's malloc.
//!
//! Rendering a page, answering the API and issuing allocate and free many small, short-lived objects on tokio's
//! worker threads. In `perf` profiles of the signed-in page and of issuance, glibc's allocator (`_int_malloc`,
//! `_int_free`, `malloc_consolidate`, `unlink_chunk`) took about a sixth of certdesk's samples. mimalloc's
//! per-thread free lists make those calls cheap. Declared in the library so the binary, the tests and the
//! benchmarks all run on the same allocator.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
