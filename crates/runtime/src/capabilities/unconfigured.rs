//! Interfaces that link but have no backend yet: `fermyon:spin/llm@2.0.0`. A component
//! importing it loads; each call fails with the interface's own error saying that no backend is
//! configured, and nothing else happens.

use kiln_world::v2::llm;
use wasmtime::component::HasData;

const NO_BACKEND: &str = "kiln has no backend configured for this interface";

/// The per-instance state of these interfaces: nothing.
pub(crate) struct Unconfigured;

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
