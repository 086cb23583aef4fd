//! Interfaces that link but have no backend yet: `fermyon:spin/llm@2.0.0`. A component
//! importing it loads; each call fails with the interface's own error saying that no backend is
//! configured, and nothing else happens.

use std::sync::Arc;

use kiln_world::v2::llm;
use wasmtime::component::{HasData, Linker};

use super::capability::{Capability, ComponentContext};
use crate::LoadError;

const NO_BACKEND: &str = "kiln has no backend configured for this interface";

/// The per-instance state of these interfaces: nothing.
pub(crate) struct Unconfigured;

impl Capability for Unconfigured {
    type AppState = ();
    type ComponentState = ();
    type InstanceState = Unconfigured;

    fn link<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut Unconfigured,
    ) -> anyhow::Result<()> {
        Ok(llm::add_to_linker::<_, HasUnconfigured>(linker, get)?)
    }

    fn configure_component(_: &(), _: &ComponentContext<'_>) -> Result<(), LoadError> {
        Ok(())
    }

    fn new_instance(_: &Arc<()>, _: &Arc<str>) -> Unconfigured {
        Unconfigured
    }
}

/// `HasData` marker for linking.
pub(crate) struct HasUnconfigured;

impl HasData for HasUnconfigured {
    type Data<'a> = &'a mut Unconfigured;
}

impl llm::Host for Unconfigured {
    async fn infer(
        &mut self,
        _model: String,
        _prompt: String,
        _params: Option<llm::InferencingParams>,
    ) -> anyhow::Result<Result<llm::InferencingResult, llm::Error>> {
        Ok(Err(llm::Error::RuntimeError(NO_BACKEND.into())))
    }
    async fn generate_embeddings(
        &mut self,
        _model: String,
        _text: Vec<String>,
    ) -> anyhow::Result<Result<llm::EmbeddingsResult, llm::Error>> {
        Ok(Err(llm::Error::RuntimeError(NO_BACKEND.into())))
    }
}
