//! Users who sign in to the dashboard: their OAuth tokens, `GET /user` and `GET /user/installations` (the
//! installations of the App the user can reach, as GitHub answers for a user-to-server token).

use super::handlers::{Handled, installation_json, paginate, user_json, with_link};
use super::*;

/// A user as [`FakeGitHub::add_user`] made them.
#[derive(Clone, Debug)]
pub(crate) struct User {
    pub login: String,
    pub id: u64,
    /// The App's installations the user can access.
    pub installations: Vec<u64>,
}

/// Answers the user endpoints; `None` for the others.
pub(crate) fn route(w: &mut World, ctx: &Ctx<'_>) -> Option<Reply> {
    let handled = match (ctx.method, ctx.template) {
        ("GET", "/user") => get_user(w, ctx),
        ("GET", "/user/installations") => list_user_installations(w, ctx),
        _ => return None,
    };
    Some(handled.unwrap_or_else(|reply| reply))
}

fn require_user<'w>(w: &'w World, ctx: &Ctx<'_>) -> Result<&'w User, Reply> {
    match ctx.caller {
        Caller::User { login } => {
            Ok(w.users.values().find(|u| &u.login == login).expect("an authenticated user is known"))
        }
        Caller::None => Err(Reply::error(401, "Requires authentication")),
        Caller::Invalid(_) => Err(Reply::error(401, "Bad credentials")),
        // Installation tokens and App JWTs are not users: GitHub answers 403 for these endpoints.
        _ => Err(Reply::error(403, "Resource not accessible by integration")),
    }
}

fn get_user(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let user = require_user(w, ctx)?;
    let mut v = Spec::global().example("private-user");
    let public = user_json(ctx.base, &user.login, user.id, "User");
    if let (Some(v), Some(public)) = (v.as_object_mut(), public.as_object()) {
        for (k, value) in public {
            v.insert(k.clone(), value.clone());
        }
    }
    v["name"] = json!(user.login);
    v["email"] = Value::Null;
    v["user_view_type"] = json!("private");
    Ok(Reply::json(200, v))
}

fn list_user_installations(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let user = require_user(w, ctx)?;
    let items: Vec<Value> = user
        .installations
        .iter()
        .filter_map(|id| w.installations.get(id))
        .map(|inst| installation_json(w, ctx.base, inst))
        .collect();
    let total = items.len();
    let (page, link) = paginate(ctx, items);
    Ok(with_link(Reply::json(200, json!({"total_count": total, "installations": page})), link))
}

impl FakeGitHub {
    /// A user with OAuth token `token` who can access the App's `installations`.
    pub fn add_user(&self, login: &str, token: &str, installations: &[u64]) {
        let mut w = self.world();
        let id = w.id();
        w.users.insert(token.to_string(), User { login: login.to_string(), id, installations: installations.to_vec() });
    }
}
