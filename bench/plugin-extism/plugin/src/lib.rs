//! The Extism counterpart of the probe plugin's `upper`: the input upper-cased.

use extism_pdk::*;

#[plugin_fn]
pub fn upper(input: String) -> FnResult<String> {
    Ok(input.to_uppercase())
}
