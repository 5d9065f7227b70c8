//! Extractors of the API routes whose rejections are JSON error bodies, and [`Caller`]: the
//! authenticated principal (put there by the pipeline) with the app state.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use luxcore_api::enums::ErrorCode;
use serde::de::DeserializeOwned;

use super::auth::Principal;
use crate::error::ApiError;
use crate::state::App;

/// `Path` whose rejection is a JSON error body.
pub(crate) struct PathParams<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::not_found(
                ErrorCode::NotFound,
                rejection.body_text(),
            )),
        }
    }
}

/// The caller of an API route (authenticated by the pipeline) with the app state:
/// `let app = caller.require(&["payments.read"])?;` checks the scopes, then hands out the state.
pub(crate) struct Caller {
    app: Arc<App>,
    principal: Principal,
}

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let principal = parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("Missing credentials"))?;
        Ok(Self {
            app: Arc::clone(app),
            principal,
        })
    }
}

impl Caller {
    /// 403 `INSUFFICIENT_SCOPE` unless one of `any_of` is held; otherwise the app state.
    pub(crate) fn require(self, any_of: &[&str]) -> Result<Arc<App>, ApiError> {
        self.principal.require(any_of)?;
        Ok(self.app)
    }
}

/// Raw body bytes whose rejection is a JSON error body.
pub(crate) struct RawBody(pub(crate) Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(request, state)
            .await
            .map(Self)
            .map_err(|rejection| ApiError::validation(vec![rejection.body_text()]))
    }
}
