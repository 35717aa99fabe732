//! Documents' text and turns, kept in memory once read: they never change
//! once a document is stored (a document restored from the trash comes back
//! with its id, text and turns), so what one server keeps stays true
//! whatever another does. Creating a coding works out its attribution from
//! them with no read of its own.

use crate::domain::ids::{DocumentId, ProjectId};
pub use crate::domain::text::Text;
use crate::store;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How much text a server keeps at most (about 400 hour-long transcripts).
pub const MOST_BYTES: usize = 16 << 20;

/// The texts one server keeps.
#[derive(Default)]
pub struct Texts {
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    texts: HashMap<DocumentId, Arc<Text>>,
    bytes: usize,
}

impl Texts {
    /// The text of `project`'s document `id`: kept, or read and kept.
    /// `None`: no such document in the project.
    pub async fn get(
        &self,
        db: &PgPool,
        project: ProjectId,
        id: DocumentId,
    ) -> sqlx::Result<Option<Arc<Text>>> {
        if let Some(text) = self.lock().texts.get(&id) {
            return Ok((text.project == project).then(|| text.clone()));
        }
        let read = store::documents::texts(db, project, Some(&[id])).await?;
        Ok(read
            .into_iter()
            .next()
            .map(|(id, body, turns)| self.keep(id, Text::new(project, body, turns))))
    }

    /// The texts of the project's documents (`ids`, or all of them): kept
    /// ones, and the others read in one round trip — or `None` when they
    /// would take more memory than a server keeps, for the caller to read
    /// them as it goes.
    pub async fn all(
        &self,
        db: &PgPool,
        project: ProjectId,
        ids: Option<&[DocumentId]>,
    ) -> sqlx::Result<Option<HashMap<DocumentId, Arc<Text>>>> {
        let sizes = store::documents::text_sizes(db, project, ids).await?;
        if sizes
            .iter()
            .map(|(_, bytes)| *bytes as usize)
            .sum::<usize>()
            > MOST_BYTES / 2
        {
            return Ok(None);
        }
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        {
            let kept = self.lock();
            for (id, _) in sizes {
                match kept.texts.get(&id) {
                    Some(text) if text.project == project => {
                        found.insert(id, text.clone());
                    }
                    _ => missing.push(id),
                }
            }
        }
        if !missing.is_empty() {
            for (id, body, turns) in store::documents::texts(db, project, Some(&missing)).await? {
                found.insert(id, self.keep(id, Text::new(project, body, turns)));
            }
        }
        Ok(Some(found))
    }

    /// Keep a text just read (if it is not too big), making room by
    /// forgetting others in no particular order.
    fn keep(&self, id: DocumentId, text: Text) -> Arc<Text> {
        let text = Arc::new(text);
        let size = text.bytes();
        if size > MOST_BYTES / 4 {
            return text;
        }
        let mut kept = self.lock();
        while kept.bytes + size > MOST_BYTES {
            let Some(&other) = kept.texts.keys().next() else {
                break;
            };
            if let Some(gone) = kept.texts.remove(&other) {
                kept.bytes -= gone.bytes();
            }
        }
        if let Some(old) = kept.texts.insert(id, text.clone()) {
            kept.bytes -= old.bytes();
        }
        kept.bytes += size;
        text
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}
