"""The published OpenAPI document: what FastAPI makes of the routes, plus the arguments of every
command, so that an integrator reads each body there (the server parses a push's envelope first and
each command's arguments by its name, which FastAPI alone cannot describe)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from cobro_tui.api.commands import ARGS, typed_mutation_models

REF = "#/components/schemas/{model}"


def document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    models = typed_mutation_models()
    _, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    schema["components"]["schemas"].update(defs.get("$defs", {}))
    refs = {name: REF.format(model=model.__name__) for name, model in zip(ARGS, models)}
    mutations = schema["components"]["schemas"]["PushRequest"]["properties"]["mutations"]
    mutations["items"] = {
        "oneOf": [{"$ref": ref} for ref in refs.values()],
        "discriminator": {"propertyName": "name", "mapping": refs},
    }
    app.openapi_schema = schema
    return schema
