//! End-to-end tests: each starts the real `kiln` binary and talks to it over stdio or HTTP.

mod brokers;
mod build;
mod clients;
mod command_trigger;
mod cron;
mod dependencies;
mod durability;
mod escapes;
mod example;
mod faults;
mod inspect;
mod lattice;
mod messaging;
mod mqtt;
mod mqtt_trigger;
mod nats_trigger;
mod observability;
mod plugins;
mod python;
mod redis_trigger;
mod registry;
mod residency;
mod run;
mod runtime_config;
mod serve;
mod sources;
mod spin;
mod templates;
mod tiers;
mod traces;
mod up;
mod util;
mod wasi_keyvalue;
mod watch;

#[test]
fn every_guest_has_a_test() {
    // Each guest must be used by at least one test module; a new guest without a test fails here.
    let sources = [
        include_str!("clients.rs"),
        include_str!("command_trigger.rs"),
        include_str!("cron.rs"),
        include_str!("durability.rs"),
        include_str!("faults.rs"),
        include_str!("observability.rs"),
        include_str!("escapes.rs"),
        include_str!("run.rs"),
        include_str!("serve.rs"),
        include_str!("up.rs"),
        include_str!("build.rs"),
        include_str!("spin.rs"),
        include_str!("traces.rs"),
        include_str!("messaging.rs"),
        include_str!("mqtt.rs"),
        include_str!("mqtt_trigger.rs"),
        include_str!("nats_trigger.rs"),
        include_str!("python.rs"),
        include_str!("redis_trigger.rs"),
        include_str!("registry.rs"),
        include_str!("residency.rs"),
        include_str!("wasi_keyvalue.rs"),
        include_str!("dependencies.rs"),
        // The plugin library's tests, in their own crate.
        include_str!("../../../plugin/tests/all/main.rs"),
        include_str!("../../../plugin/tests/all/calls.rs"),
    ]
    .concat();
    for guest in kiln_test_guests::ALL {
        assert!(
            sources.contains(&guest.to_uppercase()),
            "guest {guest} is not used by any test"
        );
    }
}
