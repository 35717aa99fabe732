//! A use case's [`Download`] as a response: an attachment with its name and
//! type, streamed from its temporary file when it has one.

use super::error::{AppError, Result};
use crate::service::exports::{Body as Content, Download};
use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::io::{Seek, SeekFrom};

pub fn attachment(download: Download) -> Result<Response> {
    let body = match download.body {
        Content::Bytes(bytes) => Body::from(bytes),
        Content::File(mut file) => {
            file.seek(SeekFrom::Start(0)).map_err(AppError::internal)?;
            let file = tokio::fs::File::from_std(file);
            Body::from_stream(tokio_util::io::ReaderStream::new(file))
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, download.content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", download.name),
            ),
        ],
        body,
    )
        .into_response())
}
