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

/// Browser entry point: attaches the event handlers to the server-rendered HTML. Asynchronously, as Leptos's
/// `hydrate_lazy` does, because a page opened directly may be a lazy route whose wasm chunk has to arrive first (see
/// `app::lazy`); once the whole page is hydrated, `<html data-hydrated="true">` says so (the browser tests wait for
/// it: an effect would run while the chunk is still on its way).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        leptos::mount::hydrate_from_async(leptos::tachys::dom::body(), App).await.forget();
        if let Some(root) = leptos::prelude::document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}
