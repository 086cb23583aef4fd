//! Key-value: `fermyon:spin/key-value@2.0.0`.
//!
//! Grants: the component's `key_value_stores` labels. Backends: the `default` store lives in
//! SQLite under the app's state directory (`.kiln/key_value.db`). Per app: the stores are opened
//! once ([`embedded_stores`]); per instance: a table of open handles, no I/O.
//! Opening a label the app does not define is `no-such-store`; one it defines but the component
//! was not granted is `access-denied`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use kiln_state::{KeyValueStore, SqliteKeyValue};
use kiln_world::v2::key_value::{self as v2, Error};
use wasmtime::component::{HasData, Resource};

use super::labels::{Handles, LabelGrant, Labelled, Refused};

/// Every store an app defines, by label.
pub type KeyValueStores = Labelled<Arc<dyn KeyValueStore>>;
/// The stores one component may open.
pub type KeyValueGrant = LabelGrant<Arc<dyn KeyValueStore>>;

/// Most stores one instance may hold open at once.
const MAX_OPEN_STORES: usize = 256;

/// The embedded defaults: store `default` in `<state_dir>/key_value.db`.
pub fn embedded_stores(state_dir: &Path) -> anyhow::Result<KeyValueStores> {
    let file = SqliteKeyValue::open(&state_dir.join("key_value.db"))?;
    Ok(Labelled::new(HashMap::from([(
        "default".to_string(),
        file.store("default"),
    )])))
}

/// Per-instance state: the grant and the stores opened so far.
pub struct KeyValueInstance {
    grant: KeyValueGrant,
    component_id: Arc<str>,
    open: Handles<Arc<dyn KeyValueStore>>,
}

impl KeyValueInstance {
    pub(crate) fn new(component_id: Arc<str>, grant: KeyValueGrant) -> Self {
        Self {
            grant,
            component_id,
            open: Handles::new(MAX_OPEN_STORES),
        }
    }

    /// Runs `op` on the store behind `handle`, mapping backend failures to `other`.
    async fn with_store<T, F>(
        &self,
        handle: &Resource<v2::Store>,
        op: impl FnOnce(Arc<dyn KeyValueStore>) -> F,
    ) -> anyhow::Result<Result<T, Error>>
    where
        F: std::future::Future<Output = anyhow::Result<T>>,
    {
        let Some(store) = self.open.get(handle.rep()).cloned() else {
            return Ok(Err(Error::Other("invalid store handle".into())));
        };
        Ok(op(store).await.map_err(|e| Error::Other(format!("{e:#}"))))
    }
}

/// `HasData` marker for linking.
pub(crate) struct HasKeyValue;

impl HasData for HasKeyValue {
    type Data<'a> = &'a mut KeyValueInstance;
}

impl v2::Host for KeyValueInstance {}

impl v2::HostStore for KeyValueInstance {
    async fn open(&mut self, label: String) -> anyhow::Result<Result<Resource<v2::Store>, Error>> {
        let store = match self.grant.open(&label) {
            Ok(store) => store,
            Err(refused) => {
                tracing::warn!(component_id = %self.component_id, "key-value store \"{label}\" refused: {refused:?}");
                return Ok(Err(match refused {
                    Refused::Undefined => Error::NoSuchStore,
                    Refused::NotGranted => Error::AccessDenied,
                }));
            }
        };
        Ok(match self.open.insert(store) {
            Some(handle) => Ok(Resource::new_own(handle)),
            None => Err(Error::StoreTableFull),
        })
    }

    async fn get(
        &mut self,
        store: Resource<v2::Store>,
        key: String,
    ) -> anyhow::Result<Result<Option<Vec<u8>>, Error>> {
        self.with_store(&store, |s| async move { s.get(&key).await })
            .await
    }

    async fn set(
        &mut self,
        store: Resource<v2::Store>,
        key: String,
        value: Vec<u8>,
    ) -> anyhow::Result<Result<(), Error>> {
        self.with_store(&store, |s| async move { s.set(&key, &value).await })
            .await
    }

    async fn delete(
        &mut self,
        store: Resource<v2::Store>,
        key: String,
    ) -> anyhow::Result<Result<(), Error>> {
        self.with_store(&store, |s| async move { s.delete(&key).await })
            .await
    }

    async fn exists(
        &mut self,
        store: Resource<v2::Store>,
        key: String,
    ) -> anyhow::Result<Result<bool, Error>> {
        self.with_store(&store, |s| async move { s.exists(&key).await })
            .await
    }

    async fn get_keys(
        &mut self,
        store: Resource<v2::Store>,
    ) -> anyhow::Result<Result<Vec<String>, Error>> {
        self.with_store(&store, |s| async move { s.get_keys().await })
            .await
    }

    async fn drop(&mut self, store: Resource<v2::Store>) -> anyhow::Result<()> {
        self.open.remove(store.rep());
        Ok(())
    }
}
