//! Answers to a client on this machine are sent uncompressed.
//!
//! Compression trades CPU for bytes. Over a network the bytes are dear: a
//! transcript page of 860 KB is 140 KB gzipped. Over the loopback interface
//! they are not: there the 42 KB JSON of a transcript took 2.6 ms through a
//! Python client uncompressed and 3.5 ms gzipped (compressing, inflating,
//! chunking). So a request from a loopback address that no proxy forwarded
//! (a script or a tool on the server itself) is answered as if it had not
//! asked for compression. A reverse proxy on the same machine says whom it
//! forwards for (`X-Forwarded-For` or `Forwarded`, as Caddy does by default
//! and docs/DEPLOYMENT.md's nginx configuration does), and its clients'
//! answers stay compressed. The header only switches compression, so a
//! client that sends one falsely gains nothing.

use axum::extract::{ConnectInfo, Request};
use axum::http::header::{ACCEPT_ENCODING, FORWARDED};
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;

/// Drop `Accept-Encoding` from a request that comes from this machine and
/// was not forwarded (see the module's notes); run it outside the
/// compression layer.
pub async fn uncompressed_on_loopback(mut req: Request, next: Next) -> Response {
    if from_this_machine(&req) {
        req.headers_mut().remove(ACCEPT_ENCODING);
    }
    next.run(req).await
}

fn from_this_machine(req: &Request) -> bool {
    let loopback = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| peer.ip().to_canonical().is_loopback());
    let headers = req.headers();
    loopback && !headers.contains_key(FORWARDED) && !headers.contains_key("x-forwarded-for")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn request(peer: Option<&str>, forwarded: Option<(&str, &str)>) -> Request {
        let mut req = Request::builder().uri("/").header(ACCEPT_ENCODING, "gzip");
        if let Some((name, value)) = forwarded {
            req = req.header(name, value);
        }
        let mut req = req.body(Body::empty()).unwrap();
        if let Some(peer) = peer {
            req.extensions_mut()
                .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        }
        req
    }

    #[test]
    fn only_an_unforwarded_loopback_client_is_from_this_machine() {
        assert!(from_this_machine(&request(Some("127.0.0.1:5000"), None)));
        assert!(from_this_machine(&request(Some("[::1]:5000"), None)));
        assert!(from_this_machine(&request(
            Some("[::ffff:127.0.0.1]:5000"),
            None
        )));
        assert!(!from_this_machine(&request(
            Some("127.0.0.1:5000"),
            Some(("x-forwarded-for", "203.0.113.7"))
        )));
        assert!(!from_this_machine(&request(
            Some("127.0.0.1:5000"),
            Some(("forwarded", "for=203.0.113.7"))
        )));
        assert!(!from_this_machine(&request(Some("10.0.0.11:5000"), None)));
        // Served without the peer's address (as some tests build the
        // router): compressed as asked.
        assert!(!from_this_machine(&request(None, None)));
    }
}
