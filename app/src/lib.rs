//! certdesk's user interface: routes, pages and components, plus the wire types, the wire error and the
//! server-function declarations shared by the server (ssr) and the browser (hydrate) builds.

// Leptos views are nested types; the release wasm build of the bigger pages needs more query depth than the
// default 128 to lay them out (pages also type-erase with `into_any` where it reads naturally).
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use app::{App, shell};
pub use error::AppError;

/// Browser entry point: attaches the event handlers to the server-rendered HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
