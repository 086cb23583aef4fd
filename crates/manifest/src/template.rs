//! Variable templates: literal text with `{{ name }}` references, as used by component
//! `variables` and `allowed_outbound_hosts`.

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<TemplatePart>,
}

/// One piece of a [`Template`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    /// Text copied as-is.
    Literal(String),
    /// `{{ name }}`: the value of an application variable.
    Variable(String),
}

impl Template {
    /// Parses `text`; the error says what is malformed.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(TemplatePart::Literal(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| format!("`{{{{` without a closing `}}}}` in \"{text}\""))?;
            let name = after[..end].trim();
            if !is_variable_name(name) {
                return Err(format!(
                    "\"{name}\" in \"{text}\" is not a variable name: use lower_snake_case"
                ));
            }
            parts.push(TemplatePart::Variable(name.to_string()));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            parts.push(TemplatePart::Literal(rest.to_string()));
        }
        Ok(Self { parts })
    }

    /// The pieces in order.
    pub fn parts(&self) -> &[TemplatePart] {
        &self.parts
    }

    /// The variable names referenced, in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            TemplatePart::Variable(name) => Some(name.as_str()),
            TemplatePart::Literal(_) => None,
        })
    }

    /// Fills in each variable with `lookup`; `None` from it stops and returns that name as the error.
    pub fn render(&self, mut lookup: impl FnMut(&str) -> Option<String>) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TemplatePart::Literal(text) => out.push_str(text),
                TemplatePart::Variable(name) => {
                    out.push_str(&lookup(name).ok_or_else(|| name.clone())?);
                }
            }
        }
        Ok(out)
    }
}

/// `lower_snake_case`: a lower-case letter, then lower-case letters, digits and single underscores.
pub fn is_variable_name(name: &str) -> bool {
    is_id(name, '_')
}

/// `kebab-case`: a lower-case letter, then lower-case letters, digits and single hyphens.
pub(crate) fn is_kebab_id(name: &str) -> bool {
    is_id(name, '-')
}

fn is_id(name: &str, separator: char) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.split(separator).all(|word| {
            !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_literals_and_variables() {
        let t = Template::parse("https://{{ host }}:{{port}}/x").unwrap();
        assert_eq!(t.variables().collect::<Vec<_>>(), ["host", "port"]);
        let rendered = t.render(|name| Some(name.to_uppercase())).unwrap();
        assert_eq!(rendered, "https://HOST:PORT/x");
    }

    #[test]
    fn rejects_malformed_templates() {
        assert!(Template::parse("{{ open").unwrap_err().contains("closing"));
        assert!(Template::parse("{{ Bad }}")
            .unwrap_err()
            .contains("lower_snake_case"));
    }

    #[test]
    fn render_reports_the_missing_variable() {
        let t = Template::parse("a{{ x }}").unwrap();
        assert_eq!(t.render(|_| None).unwrap_err(), "x");
    }

    #[test]
    fn ids() {
        assert!(is_kebab_id("hello-world2"));
        assert!(!is_kebab_id("Hello"));
        assert!(!is_kebab_id("a--b"));
        assert!(!is_kebab_id("-a"));
        assert!(is_variable_name("api_key"));
        assert!(!is_variable_name("api-key"));
    }
}
