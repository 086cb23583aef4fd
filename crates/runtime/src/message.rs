//! Components that handle Redis messages: `fermyon:spin/inbound-redis` (Spin SDKs 2 to 5, a
//! fresh instance per message) and `spin:redis/inbound-redis@3.0.0` (Spin SDK 7, async).

use std::path::Path;
use std::sync::Arc;

use kiln_world::redis_handler::RedisHandlerPre;
use kiln_world::redis_handler_v3::RedisHandlerV3Pre;

use crate::fault::{Failure, FailureKind};
use crate::instance::InstanceRecipe;
use crate::limits::ComponentLimits;
use crate::store::{ComponentCapabilities, StoreState};
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
    /// if it imports what kiln lacks or exports no Redis handler. Its instances are granted
    /// `capabilities`.
    pub(crate) fn load(
        runtime: &Runtime,
        id: &str,
        path: &Path,
        capabilities: ComponentCapabilities,
        limits: ComponentLimits,
    ) -> Result<Self, LoadError> {
        let instance_pre = crate::loader::pre_link(runtime, id, path)?.pre;
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
        let recipe = InstanceRecipe::new(runtime, id, capabilities, limits);
        Ok(Self {
            inner: Arc::new(Inner { recipe, handler }),
        })
    }

    /// The component id.
    pub fn id(&self) -> &str {
        &self.inner.recipe.id
    }

    /// Runs the handler on `message`, published on `channel`, in a fresh instance stopped at
    /// the component's timeout. Failures are logged and counted here.
    pub async fn handle(&self, message: Vec<u8>, channel: &str) -> Result<(), Failure> {
        let recipe = &self.inner.recipe;
        let timeout = recipe.limits.timeout;
        let result =
            match tokio::time::timeout_at(recipe.limits.deadline(), self.run(message)).await {
                Ok(result) => result,
                Err(_) => Err(Failure::msg(
                    FailureKind::Timeout,
                    format_args!("the guest ran past its timeout of {timeout:?} and was stopped"),
                )),
            };
        result.map_err(|failure| {
            recipe
                .report("Redis message", &channel.into())
                .reported(failure)
        })
    }

    async fn run(&self, message: Vec<u8>) -> Result<(), Failure> {
        let answered_error = |e: &dyn std::fmt::Debug| {
            Failure::msg(
                FailureKind::GuestError,
                format_args!("the guest answered with an error: {e:?}"),
            )
        };
        let mut store = self.inner.recipe.new_store().map_err(|e| {
            Failure::new(FailureKind::GuestError, e.context("creating the instance"))
        })?;
        match &self.inner.handler {
            Handler::V2(pre) => {
                let handler = pre
                    .instantiate_async(&mut store)
                    .await
                    .map_err(Failure::from_guest)?;
                handler
                    .fermyon_spin_inbound_redis()
                    .call_handle_message(&mut store, &message)
                    .await
                    .map_err(Failure::from_guest)?
                    .map_err(|e| answered_error(&e))
            }
            Handler::V3(pre) => {
                let handler = pre
                    .instantiate_async(&mut store)
                    .await
                    .map_err(Failure::from_guest)?;
                let outcome = store
                    .run_concurrent(async |accessor| {
                        handler
                            .spin_redis_inbound_redis()
                            .call_handle_message(accessor, message)
                            .await
                    })
                    .await
                    .map_err(Failure::from_guest)?
                    .map_err(Failure::from_guest)?;
                outcome.map_err(|e| answered_error(&e))
            }
        }
    }
}
