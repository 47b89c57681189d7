//! The seam between transport and application: the server hands each decoded request
//! to a [`Handler`], and everything above TLS (identity, policy, inspection, proxying)
//! lives behind that trait. Handlers compose by wrapping: an outer handler answers its
//! own paths and delegates the rest to an inner one such as [`crate::ProxyHandler`].

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;

use crate::error::BoxError;

/// Response (and proxied request) body. Boxed so handlers can return a buffered page or
/// a streamed upstream body through one type; unsync because hyper only needs `Send`
/// and that admits every streaming body.
pub type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

/// Owned, sendable future as returned by [`Handler::handle`].
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Answers one request. Errors are responses: a handler decides what the client sees,
/// so there is no error channel that the server would have to turn into a status.
pub trait Handler: Send + Sync + 'static {
    /// Handles `req`, which arrived over TLS from `peer`.
    fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> BoxFuture<Response<Body>>;
}

impl<H: Handler + ?Sized> Handler for Arc<H> {
    fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> BoxFuture<Response<Body>> {
        (**self).handle(req, peer)
    }
}

/// A body holding `data`.
pub fn full(data: impl Into<Bytes>) -> Body {
    Full::new(data.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// An empty body.
pub fn empty() -> Body {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// Wraps any streaming body whose error converts to [`BoxError`].
pub fn boxed<B>(body: B) -> Body
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed_unsync()
}

/// A short plain-text response. Used for gateway-generated errors, whose bodies must
/// not leak internal detail, so the text is a fixed string.
pub fn text_response(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut resp = Response::new(full(text));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
