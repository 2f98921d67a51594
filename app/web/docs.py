"""`/docs`: Swagger UI served from files installed with the package (fastapi-offline ships
Swagger UI 5, which reads OpenAPI 3.1), so it works offline and under the site's CSP: the page
has no inline script, its start-up code is a static file."""

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.web.templating import templates

SWAGGER_UI_DIR = Path(str(files("fastapi_offline") / "static"))
SWAGGER_UI_URL = "/static/swagger-ui"
"""Where SWAGGER_UI_DIR is mounted (before /static, which would otherwise take the path)."""

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "docs.html",
        {
            "openapi_url": request.app.openapi_url,
            "swagger_js_url": f"{SWAGGER_UI_URL}/swagger-ui-bundle.js",
            "swagger_css_url": f"{SWAGGER_UI_URL}/swagger-ui.css",
            "init_js_url": "/static/docs-init.js",
        },
    )
