//! The web's templates (`templates/web/`), compiled once: HTML and SVG with Handlebars' HTML escaping on, so every
//! value from a policy, a catalog or a repository (service names, rule messages, level names) is escaped.
//! `layout` is the pages' frame, used as a partial block: `{{#> layout}}…{{/layout}}`.

use handlebars::Handlebars;
use serde::Serialize;
use std::sync::OnceLock;

/// The stylesheet, served at `/static/shipshape.css`.
pub const STYLESHEET: &str = include_str!("../../templates/web/shipshape.css");

const TEMPLATES: &[(&str, &str)] = &[
    ("badge.svg", include_str!("../../templates/web/badge.svg.hbs")),
    ("layout", include_str!("../../templates/web/layout.html.hbs")),
    ("problem.html", include_str!("../../templates/web/problem.html.hbs")),
    ("filters", include_str!("../../templates/web/filters.html.hbs")),
    ("moves", include_str!("../../templates/web/moves.html.hbs")),
    ("chart", include_str!("../../templates/web/chart.svg.hbs")),
    ("overview.html", include_str!("../../templates/web/overview.html.hbs")),
    ("services.html", include_str!("../../templates/web/services.html.hbs")),
    ("service.html", include_str!("../../templates/web/service.html.hbs")),
    ("ops.html", include_str!("../../templates/web/ops.html.hbs")),
];

fn registry() -> &'static Handlebars<'static> {
    static REGISTRY: OnceLock<Handlebars<'static>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut h = Handlebars::new();
        h.set_strict_mode(true);
        for &(name, text) in TEMPLATES {
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
