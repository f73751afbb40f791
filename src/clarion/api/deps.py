"""Request dependencies: the installation and the workspace a secret key authenticates."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from clarion.auth import service as auth
from clarion.auth.contracts import ApiKey, KeyKind
from clarion.core.errors import Unauthorized
from clarion.instance import Instance

_bearer = HTTPBearer(auto_error=False, description="A secret API key: clarion keys create")


def get_instance(request: Request) -> Instance:
    instance: Instance = request.app.state.instance
    return instance


InstanceDep = Annotated[Instance, Depends(get_instance)]


def secret_key(
    instance: InstanceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKey:
    """The secret API key in ``Authorization: Bearer ...``; 401 otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send a secret API key as 'Authorization: Bearer <key>'")
    return auth.authenticate(
        instance.store, credentials.credentials, KeyKind.SECRET, pepper=instance.pepper
    )


SecretKeyDep = Annotated[ApiKey, Depends(secret_key)]
