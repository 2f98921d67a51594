"""`/about`: what the benchmark is, where its paper, data and code are, how to cite it, how
scoring works and the submission rules — the rules read from the settings, so they stay true."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.config import Settings
from app.rubrics.loader import bundled_rubrics
from app.tracks import Track
from app.web.deps import SettingsDep
from app.web.templating import templates

router = APIRouter(include_in_schema=False)

BIBTEX = """@misc{ning2026mmrarebench,
  title  = {{MMRareBench}: A Rare-Disease Multimodal and Multi-Image Medical Benchmark},
  author = {Ning, Junzhi and Lin, Jiashi and Fang, Yingying and Li, Wei and Liu, Jiyao and
            Tang, Cheng and Ma, Chenglong and Tang, Wenhao and Li, Tianbin and Huang, Ziyan and
            Yang, Guang and He, Junjun},
  note   = {Benchmark: https://anonymous.4open.science/r/MMRareBench-C80E/}
}"""


def about_context(settings: Settings) -> dict[str, Any]:
    rubrics = bundled_rubrics()
    return {
        "tracks": [(track, rubrics[track]) for track in Track],
        "paper_url": settings.benchmark_paper_url,
        "dataset_url": settings.benchmark_dataset_url,
        "code_url": settings.benchmark_code_url,
        "bibtex": BIBTEX,
        "per_day": settings.submissions_per_day,
        "min_coverage": settings.min_ranked_coverage,
        "max_upload_mb": settings.max_upload_bytes / 1_000_000,
        "max_prediction_chars": settings.max_prediction_chars,
        "error_tolerance": settings.judge_error_tolerance,
    }


@router.get("/about", response_class=HTMLResponse)
async def about_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    return templates.TemplateResponse(request, "about.html", about_context(settings))
