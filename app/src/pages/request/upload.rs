//! Reading a CSR file the person picked (PEM, or DER turned into PEM) into the form, in the browser. The file
//! never goes anywhere else: it only fills the CSR box, which is submitted like a pasted CSR.

use leptos::prelude::*;

/// Files larger than this are not CSRs; the server's limit is 64 KiB as well.
#[cfg(feature = "hydrate")]
const MAX_BYTES: f64 = 65_536.0;

#[cfg(feature = "hydrate")]
pub fn read_into(event: leptos::ev::Event, csr: RwSignal<String>, problem: RwSignal<Option<String>>) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let input: web_sys::HtmlInputElement = event_target(&event);
    let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
    if file.size() > MAX_BYTES {
        problem.set(Some(format!("{} is too large to be a CSR (over 64 KiB).", file.name())));
        return;
    }
    let Ok(reader) = web_sys::FileReader::new() else { return };
    let name = file.name();
    let loaded = reader.clone();
    let onload = Closure::<dyn FnMut()>::new(move || {
        let Ok(result) = loaded.result() else { return };
        let bytes = js_sys::Uint8Array::new(&result).to_vec();
        match to_pem(&bytes) {
            Some(pem) => {
                problem.set(None);
                csr.set(pem);
            }
            None => problem.set(Some(format!("{name} is neither a PEM nor a DER certificate request."))),
        }
    });
    reader.set_onload(Some(onload.as_ref().unchecked_ref()));
    // The reader keeps the callback for its own lifetime; it runs once.
    onload.forget();
    let _ = reader.read_as_array_buffer(&file);
}

#[cfg(not(feature = "hydrate"))]
pub fn read_into(_event: leptos::ev::Event, _csr: RwSignal<String>, _problem: RwSignal<Option<String>>) {}

/// PEM text as is; DER (an ASN.1 SEQUENCE) wrapped as a PEM CSR for the server to check.
#[cfg(feature = "hydrate")]
fn to_pem(bytes: &[u8]) -> Option<String> {
    use base64::Engine;
    if let Ok(text) = std::str::from_utf8(bytes)
        && text.contains("-----BEGIN")
    {
        return Some(text.to_owned());
    }
    if bytes.first() != Some(&0x30) {
        return None;
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let lines: Vec<&str> =
        encoded.as_bytes().chunks(64).map(|chunk| std::str::from_utf8(chunk).unwrap_or_default()).collect();
    Some(format!("-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n", lines.join("\n")))
}
