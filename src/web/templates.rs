//! The web's templates (`templates/web/`), compiled once: HTML and SVG with Handlebars' HTML escaping on, so every
//! value from a policy, a catalog or a repository (service names, rule messages, level names) is escaped.

use handlebars::Handlebars;
use serde::Serialize;
use std::sync::OnceLock;

const TEMPLATES: [(&str, &str); 1] = [("badge.svg", include_str!("../../templates/web/badge.svg.hbs"))];

fn registry() -> &'static Handlebars<'static> {
    static REGISTRY: OnceLock<Handlebars<'static>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut h = Handlebars::new();
        h.set_strict_mode(true);
        for (name, text) in TEMPLATES {
            // The templates are part of the binary: one that does not compile is a bug a test catches.
            h.register_template_string(name, text).unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        h
    })
}

/// Renders the template `name` with `data`.
pub fn render(name: &str, data: &impl Serialize) -> Result<String, handlebars::RenderError> {
    registry().render(name, data)
}
