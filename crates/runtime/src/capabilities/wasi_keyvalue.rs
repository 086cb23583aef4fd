//! `wasi:keyvalue`: `0.2.0-draft` (as wasmtime-wasi-keyvalue ships it) and `0.2.0-draft2` (as
//! Spin SDKs import it): store, atomics and batch, over the same stores, grants and per-instance
//! handle table as Spin's key-value interfaces ([`super::key_value`]).
//!
//! `list-keys` returns every key in one page (the cursor is always `none`), as Spin does.
//! A draft2 compare-and-swap remembers the value its key held at `cas.new`; `swap` replaces it
//! only if the key still holds that value, and on failure hands the `cas` back holding the
//! current value, ready for a retry.

use kiln_world::wasi::{keyvalue_draft as draft, keyvalue_draft2 as draft2};
use wasmtime::component::Resource;

use super::key_value::{KeyValueInstance, PendingSwap, Refusal, INVALID_HANDLE};
use super::labels::Refused;

type Outcome<T, E> = anyhow::Result<Result<T, E>>;

/// `store` and `batch`, which the drafts share but for the cursor's type and the shape of a
/// `get-many` entry (`$entry`, made from `$key` and `$value` by `$make`).
macro_rules! store_and_batch {
    ($draft:ident, cursor: $cursor:ty, entry: $entry:ty, |$key:ident, $value:ident| $make:expr) => {
        impl From<Refusal> for $draft::store::Error {
            fn from(refusal: Refusal) -> Self {
                match refusal {
                    Refusal::Refused(Refused::Undefined) => Self::NoSuchStore,
                    Refusal::Refused(Refused::NotGranted) => Self::AccessDenied,
                    Refusal::TableFull => Self::Other("too many stores open".into()),
                }
            }
        }

        impl $draft::store::Host for KeyValueInstance {
            async fn open(
                &mut self,
                identifier: String,
            ) -> Outcome<Resource<$draft::store::Bucket>, $draft::store::Error> {
                Ok(self
                    .open_label(&identifier)
                    .map(Resource::new_own)
                    .map_err(Into::into))
            }
        }

        impl $draft::store::HostBucket for KeyValueInstance {
            async fn get(
                &mut self,
                bucket: Resource<$draft::store::Bucket>,
                key: String,
            ) -> Outcome<Option<Vec<u8>>, $draft::store::Error> {
                let got = self.on_store(bucket.rep(), |s| async move { s.get(&key).await });
                Ok(got.await.map_err($draft::store::Error::Other))
            }

            async fn set(
                &mut self,
                bucket: Resource<$draft::store::Bucket>,
                key: String,
                value: Vec<u8>,
            ) -> Outcome<(), $draft::store::Error> {
                let set = self.on_store(bucket.rep(), |s| async move { s.set(&key, &value).await });
                Ok(set.await.map_err($draft::store::Error::Other))
            }

            async fn delete(
                &mut self,
                bucket: Resource<$draft::store::Bucket>,
                key: String,
            ) -> Outcome<(), $draft::store::Error> {
                let deleted = self.on_store(bucket.rep(), |s| async move { s.delete(&key).await });
                Ok(deleted.await.map_err($draft::store::Error::Other))
            }

            async fn exists(
                &mut self,
                bucket: Resource<$draft::store::Bucket>,
                key: String,
            ) -> Outcome<bool, $draft::store::Error> {
                let exists = self.on_store(bucket.rep(), |s| async move { s.exists(&key).await });
                Ok(exists.await.map_err($draft::store::Error::Other))
            }

            async fn list_keys(
                &mut self,
                bucket: Resource<$draft::store::Bucket>,
                _cursor: Option<$cursor>,
            ) -> Outcome<$draft::store::KeyResponse, $draft::store::Error> {
                let keys = self.on_store(bucket.rep(), |s| async move { s.get_keys().await });
                Ok(keys
                    .await
                    .map(|keys| $draft::store::KeyResponse { keys, cursor: None })
                    .map_err($draft::store::Error::Other))
            }

            async fn drop(
                &mut self,
                bucket: Resource<$draft::store::Bucket>,
            ) -> anyhow::Result<()> {
                self.open.remove(bucket.rep());
                Ok(())
            }
        }

        impl $draft::batch::Host for KeyValueInstance {
            async fn get_many(
                &mut self,
                bucket: Resource<$draft::store::Bucket>,
                keys: Vec<String>,
            ) -> Outcome<Vec<$entry>, $draft::store::Error> {
                let values = self.on_store(bucket.rep(), |s| async move {
                    let mut values = Vec::with_capacity(keys.len());
                    for $key in keys {
                        let $value = s.get(&$key).await?;
                        values.push($make);
                    }
                    Ok(values)
                });
                Ok(values.await.map_err($draft::store::Error::Other))
            }

            async fn set_many(
                &mut self,
                bucket: Resource<$draft::store::Bucket>,
                entries: Vec<(String, Vec<u8>)>,
            ) -> Outcome<(), $draft::store::Error> {
                let set = self.on_store(bucket.rep(), |s| async move {
                    for (key, value) in entries {
                        s.set(&key, &value).await?;
                    }
                    Ok(())
                });
                Ok(set.await.map_err($draft::store::Error::Other))
            }

            async fn delete_many(
                &mut self,
                bucket: Resource<$draft::store::Bucket>,
                keys: Vec<String>,
            ) -> Outcome<(), $draft::store::Error> {
                let deleted = self.on_store(bucket.rep(), |s| async move {
                    for key in keys {
                        s.delete(&key).await?;
                    }
                    Ok(())
                });
                Ok(deleted.await.map_err($draft::store::Error::Other))
            }
        }
    };
}

store_and_batch!(draft, cursor: u64, entry: Option<(String, Vec<u8>)>, |key, value| {
    value.map(|value| (key, value))
});
store_and_batch!(draft2, cursor: String, entry: (String, Option<Vec<u8>>), |key, value| {
    (key, value)
});

impl draft::atomics::Host for KeyValueInstance {
    async fn increment(
        &mut self,
        bucket: Resource<draft::store::Bucket>,
        key: String,
        delta: u64,
    ) -> Outcome<u64, draft::store::Error> {
        let sum = self.on_store(bucket.rep(), |s| async move {
            let delta = i64::try_from(delta)?;
            Ok(u64::try_from(s.increment(&key, delta).await?)?)
        });
        Ok(sum.await.map_err(draft::store::Error::Other))
    }
}

impl draft2::atomics::Host for KeyValueInstance {
    async fn increment(
        &mut self,
        bucket: Resource<draft2::store::Bucket>,
        key: String,
        delta: i64,
    ) -> Outcome<i64, draft2::store::Error> {
        let sum = self.on_store(
            bucket.rep(),
            |s| async move { s.increment(&key, delta).await },
        );
        Ok(sum.await.map_err(draft2::store::Error::Other))
    }

    async fn swap(
        &mut self,
        cas: Resource<draft2::atomics::Cas>,
        value: Vec<u8>,
    ) -> Outcome<(), draft2::atomics::CasError> {
        use draft2::atomics::CasError;
        let Some(pending) = self.swaps.get_mut(cas.rep()) else {
            return Ok(Err(CasError::StoreError(draft2::store::Error::Other(
                INVALID_HANDLE.into(),
            ))));
        };
        let (store, key) = (pending.store.clone(), pending.key.clone());
        let swapped = store
            .compare_and_swap(&key, pending.expected.as_deref(), &value)
            .await;
        let failed =
            |e: anyhow::Error| CasError::StoreError(draft2::store::Error::Other(format!("{e:#}")));
        match swapped {
            Ok(true) => {
                self.swaps.remove(cas.rep());
                Ok(Ok(()))
            }
            Ok(false) => match store.get(&key).await {
                Ok(current) => {
                    if let Some(pending) = self.swaps.get_mut(cas.rep()) {
                        pending.expected = current;
                    }
                    Ok(Err(CasError::CasFailed(Resource::new_own(cas.rep()))))
                }
                Err(e) => Ok(Err(failed(e))),
            },
            Err(e) => Ok(Err(failed(e))),
        }
    }
}

impl draft2::atomics::HostCas for KeyValueInstance {
    async fn new(
        &mut self,
        bucket: Resource<draft2::store::Bucket>,
        key: String,
    ) -> Outcome<Resource<draft2::atomics::Cas>, draft2::store::Error> {
        let Some(store) = self.open.get(bucket.rep()).cloned() else {
            return Ok(Err(draft2::store::Error::Other(INVALID_HANDLE.into())));
        };
        let expected = match store.get(&key).await {
            Ok(value) => value,
            Err(e) => return Ok(Err(draft2::store::Error::Other(format!("{e:#}")))),
        };
        let pending = PendingSwap {
            store,
            key,
            expected,
        };
        Ok(match self.swaps.insert(pending) {
            Some(rep) => Ok(Resource::new_own(rep)),
            None => Err(draft2::store::Error::Other(
                "too many compare-and-swaps open".into(),
            )),
        })
    }

    async fn current(
        &mut self,
        cas: Resource<draft2::atomics::Cas>,
    ) -> Outcome<Option<Vec<u8>>, draft2::store::Error> {
        Ok(match self.swaps.get(cas.rep()) {
            Some(pending) => Ok(pending.expected.clone()),
            None => Err(draft2::store::Error::Other(INVALID_HANDLE.into())),
        })
    }

    async fn drop(&mut self, cas: Resource<draft2::atomics::Cas>) -> anyhow::Result<()> {
        self.swaps.remove(cas.rep());
        Ok(())
    }
}
