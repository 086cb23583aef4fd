//! A cron component (the spin-trigger-cron world, `handle-cron-event`): prints `cron tick` and
//! the event's timestamp on each run, then sleeps `SLEEP_MS` milliseconds (from its
//! environment, 0 by default); `FAIL=1` makes every run answer with an error.

wit_bindgen::generate!({
    path: "../../wit",
    world: "kiln:host/cron-handler",
    generate_all,
});

struct Tick;

impl Guest for Tick {
    fn handle_cron_event(metadata: Metadata) -> Result<(), Error> {
        println!("cron tick {}", metadata.timestamp);
        let sleep_ms = std::env::var("SLEEP_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(0);
        std::thread::sleep(std::time::Duration::from_millis(sleep_ms));
        if std::env::var("FAIL").is_ok_and(|v| v == "1") {
            return Err(Error::Other("asked to fail".into()));
        }
        Ok(())
    }
}

export!(Tick);
