//! A plugin shipped through a real registry: `kiln registry push` of a one-component app (signed),
//! then a Rust host loads it by reference with `kiln_plugin::PluginHost::load_reference` and
//! calls it; under a verifying key an unsigned one is refused, and a reference to an app of
//! several components must name the plugin's.

use kiln_plugin::{PluginConfig, PluginError, PluginHost, RegistryOptions, Val, VerifyKey};
use kiln_test_guests::{HTTP_HELLO, PLUGIN_PROBE};

use crate::brokers::Broker;
use crate::registry::key_pair;
use crate::util::{app_dir, kiln, path_str};

/// An app whose components are `(id, wasm)`, each under a route of its own.
fn app(components: &[(&str, &str)]) -> tempfile::TempDir {
    let mut manifest = String::from(
        "spin_manifest_version = 2\n[application]\nname = \"plugins\"\nversion = \"1.0.0\"\n",
    );
    for (id, wasm) in components {
        manifest.push_str(&format!(
            "[[trigger.http]]\nroute = \"/{id}/...\"\ncomponent = \"{id}\"\n[component.{id}]\nsource = \"{wasm}\"\n"
        ));
    }
    app_dir(&[("spin.toml", &manifest)])
}

fn push(reference: &str, app: &tempfile::TempDir, sign: Option<&str>) {
    let mut command = kiln();
    command.args([
        "registry",
        "push",
        reference,
        "-f",
        path_str(app.path()),
        "--insecure",
    ]);
    if let Some(key) = sign {
        command.args(["--sign", key]);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A host that links the probe world's `host` interface by hand (no bindings needed for
/// dynamic calls), pulling into `cache`.
fn host(cache: &std::path::Path) -> PluginHost {
    PluginHost::builder()
        .artifact_cache(cache)
        .imports(|linker| {
            let mut host = linker.instance("kiln-test:probe/host@0.1.0")?;
            host.func_wrap("log", |_, (_message,): (String,)| Ok(()))?;
            host.func_wrap("prefix", |_, (): ()| Ok((String::new(),)))?;
            Ok(())
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_plugin_pushed_to_a_registry_loads_by_reference() {
    let registry = Broker::registry();
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = key_pair(keys.path(), "plugins");
    let signed = format!("{}/plugins/probe:v1", registry.host());
    let unsigned = format!("{}/plugins/probe:unsigned", registry.host());
    let both = format!("{}/plugins/both:v1", registry.host());
    push(&signed, &app(&[("probe", PLUGIN_PROBE)]), Some(&private));
    // Another app: the same one would be the signed artifact under another tag.
    push(&unsigned, &app(&[("unsigned", PLUGIN_PROBE)]), None);
    push(
        &both,
        &app(&[("probe", PLUGIN_PROBE), ("hello", HTTP_HELLO)]),
        None,
    );

    let cache = tempfile::tempdir().unwrap();
    let host = host(cache.path());
    let insecure = RegistryOptions {
        insecure: true,
        ..RegistryOptions::default()
    };
    let plugin = host
        .load_reference(&signed, &insecure, PluginConfig::new())
        .await
        .unwrap();
    assert_eq!(plugin.name(), "probe");
    let out = plugin
        .call_func((), "transform", &[Val::String("shipped".into())])
        .await
        .unwrap();
    assert_eq!(out, [Val::String("SHIPPED".into())]);

    let verifying = RegistryOptions {
        insecure: true,
        verify: Some(VerifyKey::read(std::path::Path::new(&public)).unwrap()),
        ..RegistryOptions::default()
    };
    assert!(host
        .load_reference(&signed, &verifying, PluginConfig::new())
        .await
        .is_ok());
    let refused = host
        .load_reference(&unsigned, &verifying, PluginConfig::new())
        .await
        .err()
        .unwrap();
    assert!(matches!(refused, PluginError::Pull { .. }), "{refused}");
    assert!(refused.to_string().contains("is not signed"), "{refused}");

    let ambiguous = host
        .load_reference(&both, &insecure, PluginConfig::new())
        .await
        .err()
        .unwrap();
    assert!(
        ambiguous.to_string().contains("REFERENCE#ID"),
        "{ambiguous}"
    );
    let picked = host
        .load_reference(&format!("{both}#probe"), &insecure, PluginConfig::new())
        .await
        .unwrap();
    assert_eq!(
        picked
            .call_func((), "transform", &[Val::String("picked".into())])
            .await
            .unwrap(),
        [Val::String("PICKED".into())]
    );

    let missing = host
        .load_reference(
            &format!("{}/plugins/none:v1", registry.host()),
            &insecure,
            PluginConfig::new(),
        )
        .await
        .err()
        .unwrap();
    assert!(missing.to_string().contains("plugins/none:v1"), "{missing}");
}
