//! A use case's [`Download`] as a response: an attachment with its name and
//! type, streamed from its temporary file when it has one.

use super::error::{AppError, Result};
use crate::service::exports::{Body as Content, Download};
use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::io::{Seek, SeekFrom};

/// How much of a file each piece of a streamed download holds.
const CHUNK: usize = 256 * 1024;

pub fn attachment(download: Download) -> Result<Response> {
    let (body, length) = match download.body {
        Content::Bytes(bytes) => {
            let length = bytes.len() as u64;
            (Body::from(bytes), length)
        }
        Content::File(mut file) => {
            let length = file.seek(SeekFrom::End(0)).map_err(AppError::internal)?;
            file.seek(SeekFrom::Start(0)).map_err(AppError::internal)?;
            let file = tokio::fs::File::from_std(file);
            // Large pieces: a client pays for every piece it reads (a
            // Python script spent half an export's time on 4 KB ones).
            let pieces = tokio_util::io::ReaderStream::with_capacity(file, CHUNK);
            (Body::from_stream(pieces), length)
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, download.content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", download.name),
            ),
            // Known in advance: the client sees the size (and a progress
            // bar) instead of a chunked stream; compression replaces it.
            (header::CONTENT_LENGTH, length.to_string()),
        ],
        body,
    )
        .into_response())
}
