//! Key-value: `fermyon:spin/key-value@2.0.0` and `spin:key-value/key-value@3.0.0` (the async
//! version Spin SDK 7 imports; both share the per-instance table of open stores).
//!
//! Grants: the component's `key_value_stores` labels. Backends: the `default` store lives in
//! SQLite under the app's state directory (`.kiln/key_value.db`) unless the runtime config puts
//! it elsewhere; the runtime config defines the others (a SQLite file, or Redis). Per app: the stores are opened
//! once ([`embedded_stores`]); per instance: a table of open handles, no I/O.
//! Opening a label the app does not define is `no-such-store`; one it defines but the component
//! was not granted is `access-denied`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use kiln_manifest::KeyValueStoreConfig;
use kiln_state::{KeyValueStore, NatsKeyValue, RedisKeyValue, SqliteKeyValue};
use kiln_world::v2::key_value::{self as v2, Error};
use kiln_world::v3::key_value as v3;
use wasmtime::component::{Accessor, FutureReader, HasData, Linker, Resource, StreamReader};

use super::capability::{AppContext, Capability, ComponentContext};
use super::labels::{Handles, LabelGrant, Labelled, Refused};
use crate::LoadError;

/// Every store an app defines, by label.
pub type KeyValueStores = Labelled<Arc<dyn KeyValueStore>>;
/// The stores one component may open.
pub type KeyValueGrant = LabelGrant<Arc<dyn KeyValueStore>>;

/// Most stores one instance may hold open at once.
const MAX_OPEN_STORES: usize = 256;

/// The app's stores: `default` in `<state_dir>/key_value.db` (when `embedded_default`), then
/// every store the runtime config defines, which may move `default` elsewhere.
pub fn configure_stores(
    state_dir: &Path,
    embedded_default: bool,
    configured: &BTreeMap<String, KeyValueStoreConfig>,
) -> anyhow::Result<KeyValueStores> {
    let mut stores = HashMap::new();
    if embedded_default && !configured.contains_key("default") {
        let file = SqliteKeyValue::open(&state_dir.join("key_value.db"))?;
        stores.insert("default".to_string(), file.store("default"));
    }
    for (label, config) in configured {
        let store = match config {
            KeyValueStoreConfig::Spin { path } => {
                let path = path
                    .clone()
                    .unwrap_or_else(|| state_dir.join(format!("{label}.db")));
                SqliteKeyValue::open(&path)?.store(label)
            }
            KeyValueStoreConfig::Redis { url } => RedisKeyValue::open(url)?,
            KeyValueStoreConfig::Nats { url, bucket } => NatsKeyValue::open(url, bucket)
                .with_context(|| format!("key_value_store.{label}"))?,
        };
        stores.insert(label.clone(), store);
    }
    Ok(Labelled::new(stores))
}

/// Key-value stores: the app's stores by label, each component's granted labels, and the
/// stores an instance opened.
pub(crate) struct KeyValue;

impl Capability for KeyValue {
    type AppState = KeyValueStores;
    type ComponentState = KeyValueGrant;
    type InstanceState = KeyValueInstance;

    fn link<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut KeyValueInstance,
    ) -> anyhow::Result<()> {
        use kiln_world::wasi::{keyvalue_draft as draft, keyvalue_draft2 as draft2};
        v2::add_to_linker::<_, HasKeyValue>(linker, get)?;
        v3::add_to_linker::<_, HasKeyValue>(linker, get)?;
        draft::store::add_to_linker::<_, HasKeyValue>(linker, get)?;
        draft::atomics::add_to_linker::<_, HasKeyValue>(linker, get)?;
        draft::batch::add_to_linker::<_, HasKeyValue>(linker, get)?;
        draft2::store::add_to_linker::<_, HasKeyValue>(linker, get)?;
        draft2::atomics::add_to_linker::<_, HasKeyValue>(linker, get)?;
        draft2::batch::add_to_linker::<_, HasKeyValue>(linker, get)?;
        Ok(())
    }

    async fn configure_app(app: &AppContext<'_>) -> Result<KeyValueStores, LoadError> {
        let used = app
            .spec
            .components
            .iter()
            .any(|c| !c.key_value_stores.is_empty());
        let options = app.options;
        configure_stores(
            &options.state_dir,
            used,
            &options.runtime_config.key_value_stores,
        )
        .map_err(|reason| LoadError::Configure {
            what: "key-value stores",
            reason,
        })
    }

    fn configure_component(
        stores: &KeyValueStores,
        component: &ComponentContext<'_>,
    ) -> Result<KeyValueGrant, LoadError> {
        let labels = &component.spec.key_value_stores;
        stores
            .grant_defined(labels, "key_value_stores", "store", "key_value_store")
            .map_err(|reason| component.refuse(reason))
    }

    fn new_instance(grant: &Arc<KeyValueGrant>, id: &Arc<str>) -> KeyValueInstance {
        KeyValueInstance::new(id.clone(), grant.clone())
    }
}

/// Per-instance state: the grant, the stores opened so far (by every key-value interface) and
/// the `wasi:keyvalue` compare-and-swap handles.
pub struct KeyValueInstance {
    grant: Arc<KeyValueGrant>,
    component_id: Arc<str>,
    pub(super) open: Handles<Arc<dyn KeyValueStore>>,
    pub(super) swaps: Handles<PendingSwap>,
}

impl KeyValueInstance {
    pub(crate) fn new(component_id: Arc<str>, grant: Arc<KeyValueGrant>) -> Self {
        Self {
            grant,
            component_id,
            open: Handles::new(MAX_OPEN_STORES),
            swaps: Handles::new(MAX_OPEN_STORES),
        }
    }

    /// Runs `op` on the store behind handle `rep`; a failure is the message the guest sees.
    pub(super) async fn on_store<T, F>(
        &self,
        rep: u32,
        op: impl FnOnce(Arc<dyn KeyValueStore>) -> F,
    ) -> Result<T, String>
    where
        F: std::future::Future<Output = anyhow::Result<T>>,
    {
        let store = self.open.get(rep).cloned().ok_or(INVALID_HANDLE)?;
        op(store).await.map_err(|e| format!("{e:#}"))
    }

    /// [`Self::on_store`] for `fermyon:spin/key-value`.
    async fn with_store<T, F>(
        &self,
        handle: &Resource<v2::Store>,
        op: impl FnOnce(Arc<dyn KeyValueStore>) -> F,
    ) -> anyhow::Result<Result<T, Error>>
    where
        F: std::future::Future<Output = anyhow::Result<T>>,
    {
        Ok(self.on_store(handle.rep(), op).await.map_err(Error::Other))
    }
}

/// What a guest sees when it uses a handle that is not open.
pub(super) const INVALID_HANDLE: &str = "invalid store handle";

/// A `wasi:keyvalue` compare-and-swap in progress: the value `key` held when it began.
pub struct PendingSwap {
    pub(super) store: Arc<dyn KeyValueStore>,
    pub(super) key: String,
    pub(super) expected: Option<Vec<u8>>,
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

impl KeyValueInstance {
    /// Opens `label` into the handle table: the handle, or why it was refused.
    pub(super) fn open_label(&mut self, label: &str) -> Result<u32, Refusal> {
        let store = self.grant.open(label).map_err(|refused| {
            tracing::warn!(component_id = %self.component_id, "key-value store \"{label}\" refused: {refused:?}");
            Refusal::Refused(refused)
        })?;
        self.open.insert(store).ok_or(Refusal::TableFull)
    }
}

/// Why opening a store failed, before it becomes an interface's error type.
pub(super) enum Refusal {
    Refused(Refused),
    TableFull,
}

impl From<Refusal> for v3::Error {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Refused(Refused::Undefined) => v3::Error::NoSuchStore,
            Refusal::Refused(Refused::NotGranted) => v3::Error::AccessDenied,
            Refusal::TableFull => v3::Error::StoreTableFull,
        }
    }
}

/// The store behind `handle`, taken out of the instance so no borrow is held across an await.
fn v3_store<T>(
    accessor: &Accessor<T, HasKeyValue>,
    handle: &Resource<v3::Store>,
) -> Result<Arc<dyn KeyValueStore>, v3::Error> {
    accessor
        .with(|mut access| access.get().open.get(handle.rep()).cloned())
        .ok_or_else(|| v3::Error::Other(INVALID_HANDLE.into()))
}

fn v3_result<T>(result: anyhow::Result<T>) -> Result<T, v3::Error> {
    result.map_err(|e| v3::Error::Other(format!("{e:#}")))
}

impl v3::Host for KeyValueInstance {}

impl v3::HostStore for KeyValueInstance {
    async fn drop(&mut self, store: Resource<v3::Store>) -> anyhow::Result<()> {
        self.open.remove(store.rep());
        Ok(())
    }
}

impl<T> v3::HostStoreWithStore<T> for HasKeyValue {
    async fn open(
        accessor: &Accessor<T, Self>,
        label: String,
    ) -> anyhow::Result<Result<Resource<v3::Store>, v3::Error>> {
        let opened = accessor.with(|mut access| access.get().open_label(&label));
        Ok(opened.map(Resource::new_own).map_err(v3::Error::from))
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        store: Resource<v3::Store>,
        key: String,
    ) -> anyhow::Result<Result<Option<Vec<u8>>, v3::Error>> {
        Ok(match v3_store(accessor, &store) {
            Ok(s) => v3_result(s.get(&key).await),
            Err(e) => Err(e),
        })
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        store: Resource<v3::Store>,
        key: String,
        value: Vec<u8>,
    ) -> anyhow::Result<Result<(), v3::Error>> {
        Ok(match v3_store(accessor, &store) {
            Ok(s) => v3_result(s.set(&key, &value).await),
            Err(e) => Err(e),
        })
    }

    async fn delete(
        accessor: &Accessor<T, Self>,
        store: Resource<v3::Store>,
        key: String,
    ) -> anyhow::Result<Result<(), v3::Error>> {
        Ok(match v3_store(accessor, &store) {
            Ok(s) => v3_result(s.delete(&key).await),
            Err(e) => Err(e),
        })
    }

    async fn exists(
        accessor: &Accessor<T, Self>,
        store: Resource<v3::Store>,
        key: String,
    ) -> anyhow::Result<Result<bool, v3::Error>> {
        Ok(match v3_store(accessor, &store) {
            Ok(s) => v3_result(s.exists(&key).await),
            Err(e) => Err(e),
        })
    }

    async fn get_keys(
        accessor: &Accessor<T, Self>,
        store: Resource<v3::Store>,
    ) -> anyhow::Result<(StreamReader<String>, FutureReader<Result<(), v3::Error>>)> {
        let (keys, outcome) = match v3_store(accessor, &store) {
            Ok(s) => match s.get_keys().await {
                Ok(keys) => (keys, Ok(())),
                Err(e) => (Vec::new(), Err(v3::Error::Other(format!("{e:#}")))),
            },
            Err(e) => (Vec::new(), Err(e)),
        };
        accessor.with(|mut access| {
            let keys = StreamReader::new(&mut access, keys)?;
            let outcome =
                FutureReader::new(
                    &mut access,
                    async move { Ok::<_, wasmtime::Error>(outcome) },
                )?;
            Ok((keys, outcome))
        })
    }
}
