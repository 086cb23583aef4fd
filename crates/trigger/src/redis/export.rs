//! The export a Redis message calls: `fermyon:spin/inbound-redis` (Spin SDKs 2 to 5) or
//! `spin:redis/inbound-redis@3.0.0` (Spin SDK 7, async).

use std::sync::Arc;

use kiln_runtime::{Component, Export, FailureKind, InstanceRecipe, LoadError, StoreState};
use kiln_world::redis_handler::RedisHandlerPre;
use kiln_world::redis_handler_v3::RedisHandlerV3Pre;
use wasmtime::component::InstancePre;

use crate::trigger::guest_answered;

/// A component's Redis message handler, type-checked at load.
pub enum RedisExport {
    /// `fermyon:spin/inbound-redis`.
    V2(RedisHandlerPre<StoreState>),
    /// `spin:redis/inbound-redis@3.0.0`.
    V3(RedisHandlerV3Pre<StoreState>),
}

impl Export for RedisExport {
    const TRIGGER: &'static str = super::TYPE;

    fn new(recipe: &InstanceRecipe, pre: InstancePre<StoreState>) -> Result<Self, LoadError> {
        if let Ok(pre) = RedisHandlerV3Pre::new(pre.clone()) {
            return Ok(Self::V3(pre));
        }
        match RedisHandlerPre::new(pre) {
            Ok(pre) => Ok(Self::V2(pre)),
            Err(_) => Err(recipe.missing_export(
                "fermyon:spin/inbound-redis or spin:redis/inbound-redis@3.0.0",
                "a Redis message handler (#[redis_component] in Spin SDKs)",
            )),
        }
    }
}

/// Runs `component`'s handler on `message`, published on `channel`, in a fresh instance under
/// the component's limits. A failure is logged and counted by the component; its kind is
/// returned.
pub(super) async fn handle(
    component: &Component<RedisExport>,
    message: Vec<u8>,
    channel: &Arc<str>,
) -> Result<(), FailureKind> {
    component
        .call(
            "Redis message",
            channel,
            async |export, store| match export {
                RedisExport::V2(pre) => {
                    let handler = pre.instantiate_async(&mut *store).await?;
                    store.data_mut().instantiated();
                    handler
                        .fermyon_spin_inbound_redis()
                        .call_handle_message(&mut *store, &message)
                        .await?
                        .map_err(guest_answered)
                }
                RedisExport::V3(pre) => {
                    let handler = pre.instantiate_async(&mut *store).await?;
                    store.data_mut().instantiated();
                    store
                        .run_concurrent(async |accessor| {
                            handler
                                .spin_redis_inbound_redis()
                                .call_handle_message(accessor, message)
                                .await
                        })
                        .await??
                        .map_err(guest_answered)
                }
            },
        )
        .await
}
