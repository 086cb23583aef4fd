//! A text filter that masks e-mail addresses and the words listed in `/config/blocklist.txt`
//! (a directory the host grants read-only) with `$REDACT_MASK` (an environment variable the
//! host sets), and reports how many it masked through the host's `log`.

wit_bindgen::generate!({ path: "../../wit", world: "text-filter" });

use example::text::host;

struct Redact;

impl Guest for Redact {
    fn filter(line: String) -> Result<Option<String>, String> {
        let mask = std::env::var("REDACT_MASK").unwrap_or_else(|_| "[redacted]".into());
        let blocklist = std::fs::read_to_string("/config/blocklist.txt").unwrap_or_default();
        let blocked: Vec<&str> = blocklist.split_whitespace().collect();
        let mut masked = 0;
        let words: Vec<String> = line
            .split(' ')
            .map(|word| {
                let bare = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '@');
                let secret = bare.contains('@') && bare.contains('.')
                    || blocked.iter().any(|b| b.eq_ignore_ascii_case(bare));
                if secret && !bare.is_empty() {
                    masked += 1;
                    word.replace(bare, &mask)
                } else {
                    word.to_string()
                }
            })
            .collect();
        if masked > 0 {
            host::log(&format!("masked {masked} word(s)"));
        }
        Ok(Some(words.join(" ")))
    }
}

export!(Redact);
