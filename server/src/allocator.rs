//! The process's memory allocator: mimalloc instead of glibc's malloc.
//!
//! Rendering a page allocates and frees many small, short-lived objects on tokio's worker threads. In a `perf`
//! profile of the signed-in certificates page, glibc's allocator (`_int_malloc`, `_int_free`,
//! `malloc_consolidate`, `unlink_chunk`) took about a sixth of certdesk's samples; with mimalloc the page costs
//! about 15 % less CPU and the dashboard 28 % less (README, "Benchmarks"). Declared in the library so the binary,
//! the tests and the benchmarks all run on the same allocator.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
