"""``/schema``: the API reference as a plain page rendered on the server, so it works offline.

Litestar's bundled viewers load their scripts from a CDN, which an event's Wi-Fi may not reach;
this page needs nothing but the server. The machine-readable schema stays at ``/schema/openapi.json``.
"""

from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

METHODS = ("get", "put", "post", "delete", "patch")


class ApiReference(OpenAPIRenderPlugin):
    def __init__(self) -> None:
        super().__init__(path="/", favicon="", style="")

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        template = request.app.template_engine.get_template("schema.html")
        context = {
            "info": openapi_schema.get("info", {}),
            "operations": operations(openapi_schema),
            "models": openapi_schema.get("components", {}).get("schemas", {}),
            "json_url": self.get_openapi_json_route(request),
        }
        return template.render(**context).encode()


def operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation with what a reader needs: method, path, text, parameters, body, answers."""
    found = []
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            body = operation.get("requestBody", {}).get("content", {})
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "anchor": operation.get("operationId", f"{method}{path}"),
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": operation.get("parameters", []),
                    "body": {media: type_name(content.get("schema", {})) for media, content in body.items()},
                    "responses": {
                        status: answer.get("description", "")
                        for status, answer in operation.get("responses", {}).items()
                    },
                    "secured": bool(operation.get("security")),
                }
            )
    return found


def type_name(schema: dict[str, Any]) -> str:
    """A short name for a schema: its model's name, or its type."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "oneOf" in schema:
        return " | ".join(type_name(option) for option in schema["oneOf"])
    if schema.get("type") == "array":
        return f"list of {type_name(schema.get('items', {}))}"
    return str(schema.get("type", "any"))
