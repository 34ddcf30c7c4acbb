//! A JSON body that must be an object.
//!
//! serde reads a struct from a JSON array too (`["alice", "Alice"]` as
//! `{id, name}`), which would let a malformed body through. This extractor
//! takes the body through `web::Json` (so each API's size limit, content type
//! check and error body apply), refuses anything but an object, then
//! deserializes it into `T`.

use actix_web::dev::Payload;
use actix_web::error::JsonPayloadError;
use actix_web::{web, FromRequest, HttpRequest, ResponseError};
use serde::de::{DeserializeOwned, Error as _};
use serde_json::value::RawValue;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

/// The body as `T`, refused unless it is a JSON object. `E` is the API's
/// error type, which decides the error body.
pub struct Object<T, E> {
    value: T,
    api: PhantomData<E>,
}

impl<T, E> Object<T, E> {
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T, E> std::ops::Deref for Object<T, E> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T, E> FromRequest for Object<T, E>
where
    T: DeserializeOwned + 'static,
    E: From<JsonPayloadError> + ResponseError + 'static,
{
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let raw = web::Json::<Box<RawValue>>::from_request(req, payload);
        Box::pin(async move {
            let raw = raw.await?.into_inner();
            let refuse =
                |e: serde_json::Error| actix_web::Error::from(E::from(JsonPayloadError::Deserialize(e)));
            if !raw.get().trim_start().starts_with('{') {
                return Err(refuse(serde_json::Error::custom(
                    "the body must be a JSON object",
                )));
            }
            let value = serde_json::from_str(raw.get()).map_err(refuse)?;
            Ok(Object {
                value,
                api: PhantomData,
            })
        })
    }
}

// Fields where `null` is not the same as absent, and JSON kept as its exact
// text: shared with the wire types.
pub use wallet_core::wire::{nullable, raw_present};
