//! Typed and dynamic calls, host data, instance reuse, and many callers at once.

use kiln_plugin::blocking::BlockingHost;
use kiln_plugin::{CallError, PluginConfig, Reuse, Val};

use super::{probe, probe_host, transform, Probe, Session};

#[tokio::test]
async fn typed_calls_reach_the_hosts_functions_with_the_calls_data() {
    let host = probe_host().build().unwrap();
    let plugin = probe(&host, PluginConfig::new());
    let session = Session::with_prefix("> ");
    let out = plugin
        .call(session.clone(), async |probe, store| {
            probe.call_transform(store, "hello").await
        })
        .await
        .unwrap();
    assert_eq!(out, "> HELLO");
    assert_eq!(session.lines(), ["transforming hello"]);
    // Each call has its own data.
    assert_eq!(transform(&plugin, "# ", "again").await, "# AGAIN");
    assert_eq!(session.lines().len(), 1);
}

#[tokio::test]
async fn dynamic_calls_by_export_name() {
    let host = probe_host().build().unwrap();
    let plugin = host
        .load_file(kiln_test_guests::PLUGIN_PROBE, PluginConfig::new())
        .unwrap();
    let functions = plugin.functions();
    for name in ["transform", "spin", "read-file", "count"] {
        assert!(functions.contains(&name.to_string()), "{functions:?}");
    }
    let out = plugin
        .call_func(
            Session::with_prefix("dyn:"),
            "transform",
            &[Val::String("abc".into())],
        )
        .await
        .unwrap();
    assert_eq!(out, [Val::String("dyn:ABC".into())]);
    let out = plugin
        .call_func(Session::default(), "spin", &[Val::U64(3)])
        .await
        .unwrap();
    assert_eq!(out.len(), 1);

    let missing = plugin
        .call_func(Session::default(), "transmogrify", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(missing, CallError::NoSuchFunction { .. }),
        "{missing}"
    );
    assert!(missing.to_string().contains("transform"), "{missing}");
    let wrong_type = plugin
        .call_func(Session::default(), "spin", &[Val::String("3".into())])
        .await
        .unwrap_err();
    assert!(
        matches!(wrong_type, CallError::Failed { .. }),
        "{wrong_type}"
    );
    // The plugin still answers.
    let out = plugin
        .call_func(Session::default(), "calls", &[])
        .await
        .unwrap();
    assert_eq!(out, [Val::U32(1)]);
}

async fn calls_count(plugin: &kiln_plugin::TypedPlugin<Probe, Session>) -> u32 {
    plugin
        .call(Session::default(), async |probe, store| {
            probe.call_calls(store).await
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn fresh_instances_forget_and_kept_ones_remember() {
    let host = probe_host().build().unwrap();
    let fresh = probe(&host, PluginConfig::new());
    for _ in 0..3 {
        assert_eq!(calls_count(&fresh).await, 1);
    }
    let kept = probe(&host, PluginConfig::new().reuse(Reuse::Kept));
    for expected in 1..=3 {
        assert_eq!(calls_count(&kept).await, expected);
    }
    // A failed call's instance is thrown away: the next starts afresh.
    let crashed = kept
        .call(Session::default(), async |probe, store| {
            probe.call_crash(store, "boom").await
        })
        .await
        .unwrap_err();
    assert!(matches!(crashed, CallError::Trap { .. }), "{crashed}");
    assert_eq!(calls_count(&kept).await, 1);
    assert_eq!(calls_count(&kept).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_call_one_plugin_at_once() {
    let host = probe_host().build().unwrap();
    for reuse in [Reuse::Fresh, Reuse::Kept] {
        let plugin = probe(&host, PluginConfig::new().reuse(reuse));
        let tasks: Vec<_> = (0..32)
            .map(|task| {
                let plugin = plugin.clone();
                tokio::spawn(async move {
                    for call in 0..20 {
                        let input = format!("t{task}c{call}");
                        let out = super::transform(&plugin, "", &input).await;
                        assert_eq!(out, input.to_uppercase());
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    }
}

#[test]
fn the_blocking_host_serves_many_threads() {
    let host = BlockingHost::new(probe_host()).unwrap();
    let plugin = host
        .load_file(kiln_test_guests::PLUGIN_PROBE, PluginConfig::new())
        .unwrap();
    let typed = plugin.typed::<Probe>().unwrap();
    std::thread::scope(|scope| {
        for thread in 0..8 {
            let (plugin, typed) = (plugin.clone(), typed.clone());
            scope.spawn(move || {
                for call in 0..25 {
                    let input = format!("thread {thread} call {call}");
                    let out = plugin
                        .call_func(
                            Session::default(),
                            "transform",
                            &[Val::String(input.clone())],
                        )
                        .unwrap();
                    assert_eq!(out, [Val::String(input.to_uppercase())]);
                    let out = typed
                        .call(Session::with_prefix("!"), async |probe, store| {
                            probe.call_transform(store, &input).await
                        })
                        .unwrap();
                    assert_eq!(out, format!("!{}", input.to_uppercase()));
                }
            });
        }
    });
}

#[test]
fn a_plugin_with_no_imports_of_its_own_runs_on_a_plain_host() {
    let host = BlockingHost::new(kiln_plugin::PluginHost::builder()).unwrap();
    let plugin = host
        .load_file(kiln_test_guests::PLUGIN_UPPER, PluginConfig::new())
        .unwrap();
    let out = plugin
        .call_func((), "upper", &[Val::String("plain".into())])
        .unwrap();
    assert_eq!(out, [Val::String("PLAIN".into())]);
}
