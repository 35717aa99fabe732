//! Uploaded files, read once for both doors: the single `file` part of a
//! form, or a request body sent as it is; and the files and option fields of
//! a transcript upload.

use super::error::{AppError, Result};
use crate::app::AppState;
use crate::service::documents::{MAX_FILES, Upload, UploadOptions};
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;

/// Is this request's body a multipart form?
pub fn is_multipart(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/form-data"))
}

/// The first non-empty part named `file`; `what` names the file the user
/// should send ("the .qdpx file", "a CSV file") when there is none.
pub async fn file_part(mut multipart: Multipart, what: &str) -> Result<Bytes> {
    while let Some(field) = multipart.next_field().await? {
        if field.name() == Some("file") {
            let bytes = field.bytes().await?;
            if bytes.is_empty() {
                break;
            }
            return Ok(bytes);
        }
    }
    Err(AppError::BadRequest(format!(
        "choose {what} to upload (a form part named file)"
    )))
}

/// The file of a request that is either a multipart form (part `file`) or
/// the file itself as the body.
pub async fn file_or_body(request: Request, state: &AppState, what: &str) -> Result<Bytes> {
    if is_multipart(&request) {
        let multipart = Multipart::from_request(request, state).await?;
        return file_part(multipart, what).await;
    }
    let bytes = Bytes::from_request(request, state)
        .await
        .map_err(|e| AppError::BadRequest(e.body_text()))?;
    if bytes.is_empty() {
        return Err(AppError::BadRequest(format!("send {what} as the body")));
    }
    Ok(bytes)
}

/// The files and option fields of a transcript upload form.
pub async fn transcripts(mut multipart: Multipart) -> Result<(Vec<Upload>, UploadOptions)> {
    let mut files = Vec::new();
    let mut options = UploadOptions::default();
    while let Some(field) = multipart.next_field().await? {
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "file" | "files" | "file[]" | "files[]" => {
                let filename = field.file_name().unwrap_or("upload.txt").to_owned();
                let bytes = field.bytes().await?.to_vec();
                // A form's empty file input sends one nameless, empty part.
                if filename.is_empty() && bytes.is_empty() {
                    continue;
                }
                if files.len() == MAX_FILES {
                    return Err(AppError::BadRequest(format!(
                        "at most {MAX_FILES} files can be uploaded at once"
                    )));
                }
                files.push(Upload { filename, bytes });
            }
            "copies" => {
                let value = field.text().await?;
                options.copies = matches!(value.trim(), "true" | "on" | "1" | "yes");
            }
            "kind" | "title" | "held_on" | "participant" => {
                let value = field.text().await?;
                let value = Some(value.trim().to_owned()).filter(|v| !v.is_empty());
                match name.as_str() {
                    "kind" => options.kind = value,
                    "title" => options.title = value,
                    "held_on" => options.held_on = value,
                    _ => options.participant = value,
                }
            }
            _ => {}
        }
    }
    if files.is_empty() {
        return Err(AppError::BadRequest(
            "choose at least one file to upload (form field `file`)".into(),
        ));
    }
    Ok((files, options))
}

/// The file and fields of a survey upload.
pub async fn survey(mut multipart: Multipart) -> Result<crate::service::surveys::Upload> {
    let mut up = crate::service::surveys::Upload::default();
    while let Some(field) = multipart.next_field().await? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" {
            up.file_name = field.file_name().unwrap_or("survey.csv").to_owned();
            up.bytes = field.bytes().await?.to_vec();
            continue;
        }
        let slot = match name.as_str() {
            "name" => &mut up.name,
            "dry_run" => &mut up.dry_run,
            "replace" => &mut up.replace,
            "columns" => &mut up.columns,
            "min" => &mut up.min,
            "max" => &mut up.max,
            _ => continue,
        };
        *slot = Some(field.text().await?);
    }
    Ok(up)
}
