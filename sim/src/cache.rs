//! Rendered documents, kept per name with the map version they were rendered at, so that
//! every reader of one version shares one `Arc<str>` and nothing is serialised twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::model::Cluster;

/// One document: the version it was rendered at and its text.
type Slot = Arc<Mutex<Option<(u64, Arc<str>)>>>;

/// The document cache. Each name has its own slot lock, so two readers of a stale document
/// render it once (the second waits for the first), while readers of other documents go on.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    slots: Mutex<HashMap<String, Slot>>,
}

impl Cache {
    /// The document `key` at `version`, rendered by `render` if the cached one is older.
    /// The caller holds the model's read lock, so the model cannot change meanwhile.
    pub(crate) fn get(
        &self,
        c: &Cluster,
        key: &str,
        version: u64,
        render: impl FnOnce(&Cluster) -> String,
    ) -> Arc<str> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(slots.entry(key.to_owned()).or_default())
        };
        let mut guard = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((v, text)) = guard.as_ref()
            && *v == version
        {
            return Arc::clone(text);
        }
        // Drop the old text before rendering the new one, so two large versions are never
        // held at once.
        *guard = None;
        let text: Arc<str> = Arc::from(render(c));
        *guard = Some((version, Arc::clone(&text)));
        text
    }
}
