//! Components that handle Redis messages: `fermyon:spin/inbound-redis` (Spin SDKs 2 to 5, a
//! fresh instance per message) and `spin:redis/inbound-redis@3.0.0` (Spin SDK 7, async).

use std::path::Path;
use std::sync::Arc;

use kiln_world::redis_handler::RedisHandlerPre;
use kiln_world::redis_handler_v3::RedisHandlerV3Pre;

use crate::grants::Grants;
use crate::http::InstanceRecipe;
use crate::store::StoreState;
use crate::{LoadError, Runtime};

/// A message handler ready to run: compiled, linked and type-checked at load. Cheap to clone.
#[derive(Clone)]
pub struct MessageComponent {
    inner: Arc<Inner>,
}

struct Inner {
    recipe: InstanceRecipe,
    handler: Handler,
}

enum Handler {
    V2(RedisHandlerPre<StoreState>),
    V3(RedisHandlerV3Pre<StoreState>),
}

impl MessageComponent {
    /// Reads, compiles (or takes from the cache) and pre-links the component at `path`; fails
    /// if it imports what kiln lacks or exports no Redis handler.
    pub fn load(
        runtime: &Runtime,
        id: &str,
        path: &Path,
        grants: Grants,
    ) -> Result<Self, LoadError> {
        let instance_pre = crate::loader::pre_link(runtime, id, path)?;
        let handler = match RedisHandlerV3Pre::new(instance_pre.clone()) {
            Ok(pre) => Handler::V3(pre),
            Err(_) => match RedisHandlerPre::new(instance_pre) {
                Ok(pre) => Handler::V2(pre),
                Err(_) => {
                    return Err(LoadError::MissingExport {
                        id: id.to_string(),
                        export: "fermyon:spin/inbound-redis or spin:redis/inbound-redis@3.0.0",
                        what: "a Redis message handler (#[redis_component] in Spin SDKs)",
                    })
                }
            },
        };
        let recipe = InstanceRecipe::new(runtime, id, grants);
        Ok(Self {
            inner: Arc::new(Inner { recipe, handler }),
        })
    }

    /// The component id.
    pub fn id(&self) -> &str {
        &self.inner.recipe.id
    }

    /// Runs the handler on `message` in a fresh instance. An `Err` means the guest trapped or
    /// answered with an error.
    pub async fn handle(&self, message: Vec<u8>) -> anyhow::Result<()> {
        let mut store = self.inner.recipe.new_store()?;
        match &self.inner.handler {
            Handler::V2(pre) => {
                let handler = pre.instantiate_async(&mut store).await?;
                handler
                    .fermyon_spin_inbound_redis()
                    .call_handle_message(&mut store, &message)
                    .await?
                    .map_err(|e| anyhow::anyhow!("the guest answered with an error: {e:?}"))
            }
            Handler::V3(pre) => {
                let handler = pre.instantiate_async(&mut store).await?;
                let outcome = store
                    .run_concurrent(async |accessor| {
                        handler
                            .spin_redis_inbound_redis()
                            .call_handle_message(accessor, message)
                            .await
                    })
                    .await??;
                outcome.map_err(|e| anyhow::anyhow!("the guest answered with an error: {e:?}"))
            }
        }
    }
}
