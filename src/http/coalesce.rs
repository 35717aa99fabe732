//! Response bodies sent in large pieces.
//!
//! Compression hands its output on in 4 KiB frames, and each frame becomes
//! a chunk of its own on the wire that a client reads separately: a Python
//! script spent as long on the six chunks of a 19 KB gzipped transcript as
//! the server took to answer. [`Coalesce`] joins the frames that are ready
//! at once into pieces of up to [`PIECE`] bytes; a frame that is not ready
//! yet never waits for more to come.

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The most a joined piece holds.
pub const PIECE: usize = 256 * 1024;

/// A body whose data frames, while they follow each other without waiting,
/// are sent joined (see the module's notes).
pub struct Coalesce {
    inner: Body,
    /// What the inner body yielded that could not join the piece before
    /// it (trailers or an error), sent next.
    held: Option<Result<Frame<Bytes>, axum::Error>>,
    ended: bool,
}

impl Coalesce {
    pub fn new(inner: Body) -> Self {
        Coalesce {
            inner,
            held: None,
            ended: false,
        }
    }
}

/// A piece being joined: the first frame as it came, copied only when a
/// second joins it.
#[derive(Default)]
struct Piece {
    first: Option<Bytes>,
    joined: Vec<u8>,
}

impl Piece {
    fn len(&self) -> usize {
        self.first.as_ref().map_or(self.joined.len(), Bytes::len)
    }

    fn is_empty(&self) -> bool {
        self.first.is_none() && self.joined.is_empty()
    }

    fn push(&mut self, data: Bytes) {
        if self.is_empty() {
            self.first = Some(data);
            return;
        }
        if let Some(first) = self.first.take() {
            self.joined.reserve(first.len() + data.len());
            self.joined.extend_from_slice(&first);
        }
        self.joined.extend_from_slice(&data);
    }

    fn into_frame(self) -> Frame<Bytes> {
        Frame::data(self.first.unwrap_or_else(|| Bytes::from(self.joined)))
    }
}

impl http_body::Body for Coalesce {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Some(held) = this.held.take() {
            return Poll::Ready(Some(held));
        }
        if this.ended {
            return Poll::Ready(None);
        }
        let mut piece = Piece::default();
        loop {
            let polled = Pin::new(&mut this.inner).poll_frame(cx);
            let next = match polled {
                Poll::Pending if piece.is_empty() => return Poll::Pending,
                Poll::Pending => return Poll::Ready(Some(Ok(piece.into_frame()))),
                Poll::Ready(next) => next,
            };
            match next {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => {
                        piece.push(data);
                        if piece.len() >= PIECE {
                            return Poll::Ready(Some(Ok(piece.into_frame())));
                        }
                    }
                    Err(other) => this.held = Some(Ok(other)),
                },
                Some(Err(e)) => this.held = Some(Err(e)),
                None => this.ended = true,
            }
            if this.held.is_some() || this.ended {
                if piece.is_empty() {
                    return Poll::Ready(this.held.take());
                }
                return Poll::Ready(Some(Ok(piece.into_frame())));
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.held.is_none() && (self.ended || self.inner.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        match self.held {
            // Trailers or an error only: no more data.
            Some(_) => SizeHint::with_exact(0),
            None if self.ended => SizeHint::with_exact(0),
            None => self.inner.size_hint(),
        }
    }
}

/// Wrap a response body (see [`Coalesce`]).
pub fn coalesce<B>(body: B) -> Body
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    Body::new(Coalesce::new(Body::new(body)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;
    use http_body_util::BodyExt;

    async fn frames(body: Body) -> Vec<usize> {
        let mut body = Coalesce::new(body);
        let mut sizes = Vec::new();
        while let Some(frame) = body.frame().await {
            sizes.push(frame.unwrap().into_data().unwrap().len());
        }
        sizes
    }

    #[tokio::test]
    async fn frames_that_are_ready_together_are_sent_as_one_piece() {
        let parts: Vec<Result<Bytes, std::io::Error>> = (0..6)
            .map(|i| Ok(Bytes::from(vec![i as u8; 4096])))
            .collect();
        let body = Body::from_stream(stream::iter(parts));
        assert_eq!(frames(body).await, vec![6 * 4096]);
    }

    #[tokio::test]
    async fn pieces_stop_at_the_limit_and_keep_every_byte_in_order() {
        let parts: Vec<Result<Bytes, std::io::Error>> = (0..200)
            .map(|i| Ok(Bytes::from(vec![(i % 251) as u8; 3000])))
            .collect();
        let expected: Vec<u8> = (0..200).flat_map(|i| vec![(i % 251) as u8; 3000]).collect();
        let body = Body::from_stream(stream::iter(parts));
        let sizes = frames(body).await;
        assert!(sizes.len() >= 3, "{sizes:?}");
        assert!(sizes.iter().all(|&n| n <= PIECE + 3000), "{sizes:?}");
        assert_eq!(sizes.iter().sum::<usize>(), expected.len());
        let body = Body::new(Coalesce::new(Body::from_stream(stream::iter(
            (0..200).map(|i| Ok::<_, std::io::Error>(Bytes::from(vec![(i % 251) as u8; 3000]))),
        ))));
        let joined = body.collect().await.unwrap().to_bytes();
        assert_eq!(joined.as_ref(), expected.as_slice());
    }

    #[tokio::test]
    async fn a_frame_that_is_not_ready_is_not_waited_for() {
        // The second part comes only after the first has been read.
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
        let body = Body::from_stream(tokio_stream_from(rx));
        let mut body = Coalesce::new(body);
        tx.send(Ok(Bytes::from_static(b"first"))).await.unwrap();
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(first.as_ref(), b"first");
        tx.send(Ok(Bytes::from_static(b"second"))).await.unwrap();
        drop(tx);
        let second = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(second.as_ref(), b"second");
        assert!(body.frame().await.is_none());
    }

    #[tokio::test]
    async fn an_error_after_data_comes_after_that_data() {
        let parts: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from_static(b"some")),
            Err(std::io::Error::other("broken")),
        ];
        let mut body = Coalesce::new(Body::from_stream(stream::iter(parts)));
        let data = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(data.as_ref(), b"some");
        assert!(body.frame().await.unwrap().is_err());
    }

    #[tokio::test]
    async fn an_empty_body_stays_empty() {
        assert!(frames(Body::empty()).await.is_empty());
        let whole = frames(Body::from("whole")).await;
        assert_eq!(whole, vec![5]);
    }

    fn tokio_stream_from<T: Send + 'static>(
        mut rx: tokio::sync::mpsc::Receiver<T>,
    ) -> impl futures_util::Stream<Item = T> + Send + 'static {
        stream::poll_fn(move |cx| rx.poll_recv(cx))
    }
}
