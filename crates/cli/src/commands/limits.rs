//! The limit flags `kiln up` and `kiln serve` share.

use std::time::Duration;

use clap::Args;
use kiln_manifest::{parse_duration, parse_size, Limits};

/// Limits for components whose manifest sets none; kiln's defaults fill in the rest.
#[derive(Args)]
#[command(
    next_help_heading = "Limits (per component; a manifest's [component.ID.tool.kiln.limits] wins)"
)]
pub(crate) struct LimitArgs {
    /// Most linear memory one instance may hold [default: 256 MiB].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_memory: Option<u64>,
    /// Longest a request may run, response body included [default: 30s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Most requests one component runs at once; more wait up to 1s, then get 503 [default: 256].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_concurrent: Option<u32>,
    /// Largest request body accepted; larger ones get 413 [default: 16 MiB].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_request_body: Option<u64>,
    /// Largest response body sent; the instance is stopped past it [default: 256 MiB].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_response_body: Option<u64>,
}

impl LimitArgs {
    /// The limits these flags set.
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            max_memory: self.max_memory,
            timeout: self.timeout,
            max_concurrent: self.max_concurrent,
            max_request_body: self.max_request_body,
            max_response_body: self.max_response_body,
        }
    }
}
