//! kiln-plugin against real plugins: the `plugin_probe` guest (guests/plugin_probe, world
//! `kiln-test:probe`), called typed and dynamically, held to each limit, granted and denied,
//! from many tasks and threads.

mod calls;
mod grants;
mod limits;
mod loading;

use std::sync::{Arc, Mutex};

use kiln_plugin::{PluginConfig, PluginHost, PluginHostBuilder, TypedPlugin};
use wasmtime::component::HasSelf;

wasmtime::component::bindgen!({
    path: "../../guests/plugin_probe/wit",
    world: "probe",
    imports: { default: async },
    exports: { default: async },
});

kiln_plugin::bindings!(Probe, ProbeIndices);

/// What the probe's host functions work on during one call.
#[derive(Clone, Default)]
pub struct Session {
    prefix: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Session {
    fn with_prefix(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_string(),
            ..Self::default()
        }
    }

    fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl kiln_test::probe::host::Host for Session {
    async fn log(&mut self, message: String) {
        self.log.lock().unwrap().push(message);
    }

    async fn prefix(&mut self) -> String {
        self.prefix.clone()
    }
}

/// A host builder that provides the probe's imports.
fn probe_host() -> PluginHostBuilder<Session> {
    PluginHost::<Session>::builder().imports(|linker| {
        kiln_test::probe::host::add_to_linker::<_, HasSelf<Session>>(linker, kiln_plugin::host_data)
    })
}

/// The probe loaded on `host` with `config`, typed.
fn probe(host: &PluginHost<Session>, config: PluginConfig) -> TypedPlugin<Probe, Session> {
    host.load_file(kiln_test_guests::PLUGIN_PROBE, config)
        .unwrap()
        .typed::<Probe>()
        .unwrap()
}

/// The probe's transform of `input` with `prefix`: what a healthy plugin answers.
async fn transform(plugin: &TypedPlugin<Probe, Session>, prefix: &str, input: &str) -> String {
    plugin
        .call(Session::with_prefix(prefix), async |probe, store| {
            probe.call_transform(store, input).await
        })
        .await
        .unwrap()
}
