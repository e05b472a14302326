//! The server functions' wire codec: JSON in a POST body, as server_fn's own `Json`, but answers are read in the
//! browser with `serde_json::from_str`. Hydration reads every resource's value with `from_str` too, so each wire
//! type's `Deserialize` code is compiled into the wasm once; with server_fn's `from_slice` it was there twice (a
//! second instantiation over another reader): 124 KB of the wasm, 35 KB gzip'd (issue 16).

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// JSON read through `&str`; the bytes on the wire are the same as server_fn's `JsonEncoding`.
pub struct JsonText;

/// What the `input` and `output` of every `#[server]` function names.
pub type Rpc = Post<JsonText>;

#[derive(Debug, thiserror::Error)]
pub enum JsonTextError {
    #[error("the body is not UTF-8: {0}")]
    NotUtf8(#[from] std::str::Utf8Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(value: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(value).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = JsonTextError;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        Ok(serde_json::from_str(std::str::from_utf8(&bytes)?)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    #[test]
    fn encodes_and_decodes_the_same_json_as_server_fn() {
        let error = AppError::invalid("name", "must not be empty");
        let bytes = <JsonText as Encodes<AppError>>::encode(&error).unwrap();
        assert_eq!(bytes, Bytes::from(serde_json::to_vec(&error).unwrap()));
        let decoded: AppError = <JsonText as Decodes<AppError>>::decode(bytes).unwrap();
        assert_eq!(decoded, error);
    }

    #[test]
    fn a_body_that_is_not_utf8_is_a_decoding_error() {
        let decoded = <JsonText as Decodes<AppError>>::decode(Bytes::from_static(b"\"\xff\""));
        assert!(matches!(decoded, Err(JsonTextError::NotUtf8(_))), "{decoded:?}");
    }
}
