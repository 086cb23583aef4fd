//! Each limit hit, and the plugin answering its next call.

use std::time::Duration;

use kiln_plugin::{CallError, PluginConfig, PluginError};

use super::{probe, probe_host, transform, Session};

#[tokio::test]
async fn a_call_past_its_deadline_is_stopped() {
    let host = probe_host().build().unwrap();
    let plugin = probe(
        &host,
        PluginConfig::new().timeout(Duration::from_millis(200)),
    );
    let error = plugin
        .call(Session::default(), async |probe, store| {
            probe.call_spin(store, u64::MAX).await
        })
        .await
        .unwrap_err();
    assert!(
        matches!(error, CallError::Timeout { limit, .. } if limit == Duration::from_millis(200)),
        "{error}"
    );
    assert_eq!(transform(&plugin, "", "next").await, "NEXT");
}

#[tokio::test]
async fn memory_over_the_limit_fails_the_call_only() {
    let host = probe_host().build().unwrap();
    let plugin = probe(&host, PluginConfig::new().max_memory(24 << 20));
    let allocate = async |megabytes: u32| {
        plugin
            .call(Session::default(), async |probe, store| {
                probe.call_allocate(store, megabytes).await
            })
            .await
    };
    assert_eq!(allocate(4).await.unwrap(), 4);
    let error = allocate(64).await.unwrap_err();
    match &error {
        CallError::MemoryLimit { limit, desired, .. } => {
            assert_eq!(*limit, 24 << 20);
            assert!(*desired > 24 << 20, "{error}");
        }
        other => panic!("expected a memory limit error, got {other}"),
    }
    assert_eq!(allocate(4).await.unwrap(), 4);
}

#[tokio::test]
async fn fuel_stops_the_same_work_at_the_same_point() {
    let host = probe_host().fuel(true).build().unwrap();
    let plugin = probe(&host, PluginConfig::new().fuel(2_000_000));
    let spin = async |iterations: u64| {
        plugin
            .call(Session::default(), async |probe, store| {
                probe.call_spin(store, iterations).await
            })
            .await
    };
    assert!(spin(1_000).await.is_ok());
    let error = spin(100_000_000).await.unwrap_err();
    assert!(
        matches!(
            error,
            CallError::OutOfFuel {
                budget: 2_000_000,
                ..
            }
        ),
        "{error}"
    );
    assert!(spin(1_000).await.is_ok());

    // A budget on a host that does not count fuel is refused at load.
    let no_fuel = probe_host().build().unwrap();
    let refused = no_fuel
        .load_file(kiln_test_guests::PLUGIN_PROBE, PluginConfig::new().fuel(10))
        .err()
        .unwrap();
    assert!(matches!(refused, PluginError::Grant { .. }), "{refused}");
    assert!(refused.to_string().contains("fuel(true)"), "{refused}");
}

#[tokio::test]
async fn a_trap_fails_the_call_only() {
    let host = probe_host().build().unwrap();
    let plugin = probe(&host, PluginConfig::new());
    let error = plugin
        .call(Session::default(), async |probe, store| {
            probe.call_crash(store, "on purpose").await
        })
        .await
        .unwrap_err();
    match &error {
        CallError::Trap { plugin, reason } => {
            assert_eq!(plugin, "plugin_probe");
            assert!(reason.contains("unreachable"), "{reason}");
        }
        other => panic!("expected a trap, got {other}"),
    }
    assert_eq!(transform(&plugin, "", "after").await, "AFTER");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_past_max_concurrent_are_refused_as_busy() {
    let host = probe_host().build().unwrap();
    let plugin = probe(
        &host,
        PluginConfig::new()
            .max_concurrent(1)
            .timeout(Duration::from_secs(3)),
    );
    let long = {
        let plugin = plugin.clone();
        tokio::spawn(async move {
            plugin
                .call(Session::default(), async |probe, store| {
                    probe.call_spin(store, u64::MAX).await
                })
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let error = plugin
        .call(Session::default(), async |probe, store| {
            probe.call_transform(store, "x").await
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            CallError::Busy {
                max_concurrent: 1,
                ..
            }
        ),
        "{error}"
    );
    assert!(matches!(
        long.await.unwrap(),
        Err(CallError::Timeout { .. })
    ));
    assert_eq!(transform(&plugin, "", "free").await, "FREE");
}
