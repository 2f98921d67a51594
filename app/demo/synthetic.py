"""Full-size synthetic gold bundles and prediction files, for benchmarks and scale tests.

Nothing here is MMRareBench data: items are assembled from small invented vocabularies, every
line carries "synthetic": true, and the output is deterministic for a given seed so benchmark
runs compare like with like. The small hand-written demo bundle lives in DEMO_DIR.
"""

import json
import random
import struct
import zlib
from pathlib import Path
from typing import Any

from app.formats.gold_bundle import GOLD_FILENAME, GoldItemSpec, parse_gold_bundle
from app.resources import resource_path
from app.tracks import Track

DEMO_DIR = resource_path("demo")

# Chosen to sum to 1,756; the paper gives only the total (its per-track figure is not in the text).
PAPER_TRACK_SIZES: dict[Track, int] = {
    Track.T1: 560,
    Track.T2: 420,
    Track.T3: 376,
    Track.T4: 400,
}
PAPER_TOTAL = sum(PAPER_TRACK_SIZES.values())  # 1,756

# (diagnosis, aliases, ORPHAcode, category): enough variety for F1 to behave realistically.
_DISEASES: list[tuple[str, list[str], str, str]] = [
    (
        "Dyskeratosis congenita",
        ["Zinsser-Cole-Engman syndrome"],
        "ORPHA:1775",
        "rare hematologic disease",
    ),
    ("Fabry disease", ["Anderson-Fabry disease"], "ORPHA:324", "rare inborn error of metabolism"),
    (
        "Gaucher disease",
        ["Glucocerebrosidase deficiency"],
        "ORPHA:355",
        "rare inborn error of metabolism",
    ),
    (
        "Pompe disease",
        ["Glycogen storage disease type II"],
        "ORPHA:365",
        "rare inborn error of metabolism",
    ),
    ("Wilson disease", ["Hepatolenticular degeneration"], "ORPHA:905", "rare hepatic disease"),
    ("Marfan syndrome", [], "ORPHA:558", "rare systemic connective tissue disease"),
    (
        "Neurofibromatosis type 1",
        ["NF1", "von Recklinghausen disease"],
        "ORPHA:636",
        "rare neurological disease",
    ),
    (
        "Tuberous sclerosis complex",
        ["Bourneville disease"],
        "ORPHA:805",
        "rare neurological disease",
    ),
    (
        "Hereditary hemorrhagic telangiectasia",
        ["Osler-Weber-Rendu disease"],
        "ORPHA:774",
        "rare vascular disease",
    ),
    ("Von Hippel-Lindau disease", ["VHL syndrome"], "ORPHA:892", "rare neoplastic disease"),
    ("Erdheim-Chester disease", [], "ORPHA:35687", "rare neoplastic disease"),
    ("Takayasu arteritis", ["Pulseless disease"], "ORPHA:3287", "rare systemic vasculitis"),
    (
        "Kawasaki disease",
        ["Mucocutaneous lymph node syndrome"],
        "ORPHA:2331",
        "rare systemic vasculitis",
    ),
    ("Alport syndrome", [], "ORPHA:63", "rare renal disease"),
    (
        "Sturge-Weber syndrome",
        ["Encephalotrigeminal angiomatosis"],
        "ORPHA:3205",
        "rare neurological disease",
    ),
    ("Langerhans cell histiocytosis", ["Histiocytosis X"], "ORPHA:389", "rare neoplastic disease"),
]
_FINDINGS = [
    "reticulate skin hyperpigmentation", "nail dystrophy", "oral leukoplakia",
    "hepatosplenomegaly", "bone pain", "thrombocytopenia", "angiokeratomas",
    "acroparesthesia", "proteinuria", "hypotonia", "cardiomegaly", "Kayser-Fleischer rings",
    "tremor", "tall stature", "ectopia lentis", "aortic root dilatation", "cafe-au-lait macules",
    "axillary freckling", "facial angiofibromas", "seizures", "recurrent epistaxis",
    "retinal hemangioblastoma", "absent radial pulses", "persistent fever",
    "sensorineural hearing loss", "port-wine stain", "lytic skull lesion", "diabetes insipidus",
]  # fmt: skip
_PLAN_ELEMENTS = [
    "confirm the diagnosis genetically before starting therapy", "enzyme replacement therapy",
    "substrate reduction therapy", "copper chelation with trientine", "zinc maintenance",
    "intravenous immunoglobulin", "low-dose aspirin", "glucocorticoid induction",
    "methotrexate as steroid-sparing agent", "BRAF inhibitor therapy", "surgical resection",
    "radiotherapy", "multiagent chemotherapy", "beta-blocker for aortic protection",
    "defer surgery until disease is inactive", "echocardiography at 2 and 6 weeks",
    "annual ophthalmologic review", "renal function and proteinuria monitoring",
    "genetic counselling and family screening", "physiotherapy and respiratory support",
    "pain management", "follow-up imaging every 6 months", "avoid contact sports",
    "hematopoietic stem cell transplantation evaluation",
]  # fmt: skip
_RELATIONS = ["concordant", "complementary", "discordant", "progression", "explanatory"]
_MODALITIES = [
    ("clinical photograph", "reticular hyperpigmentation over the neck"),
    ("skin biopsy", "melanin incontinence with dermal melanophages"),
    ("chest CT", "bilateral ground-glass opacities"),
    ("brain MRI", "cortical tubers and subependymal nodules"),
    ("hand radiograph", "delayed skeletal maturation"),
    ("fundus photograph", "peripheral retinal hemangioblastoma"),
    ("echocardiogram", "dilated aortic root"),
    ("abdominal ultrasound", "hepatosplenomegaly with coarse echotexture"),
]  # fmt: skip
_TESTS = [
    "enzyme activity assay in leukocytes", "targeted gene panel sequencing",
    "whole-exome sequencing", "serum ceruloplasmin", "24-hour urinary copper",
    "slit-lamp examination", "echocardiography", "cardiac MRI", "brain MRI", "renal ultrasound",
    "urine protein-to-creatinine ratio", "telomere length by flow-FISH", "bone marrow biopsy",
    "CT angiography of the aorta", "ESR and CRP", "plasma metanephrines",
    "audiometry", "skeletal survey", "PET-CT", "pulmonary function tests",
]  # fmt: skip
_FILLER = [
    "possibly", "consider", "likely", "evaluation", "syndrome", "chronic", "idiopathic",
    "supportive", "care", "observation", "further", "workup", "monitoring", "general",
]  # fmt: skip
_IMAGE_NAMES = [f"images/synthetic-{i}.png" for i in range(6)]


def track_sizes(total: int) -> dict[Track, int]:
    """Split `total` in the paper's track proportions (largest remainder, so the sum is exact)."""
    if total < 0:
        raise ValueError(f"items must be >= 0, got {total}")
    exact = {t: total * n / PAPER_TOTAL for t, n in PAPER_TRACK_SIZES.items()}
    sizes = {t: int(share) for t, share in exact.items()}
    by_remainder = sorted(Track, key=lambda t: (-(exact[t] - sizes[t]), t.value))
    for track in by_remainder[: total - sum(sizes.values())]:
        sizes[track] += 1
    return sizes


def write_synthetic_bundle(
    out_dir: Path, *, items: int = PAPER_TOTAL, seed: int = 7, with_images: bool = False
) -> Path:
    """Write out_dir/gold.jsonl (and out_dir/images/ when asked); return the .jsonl path.

    Track sizes follow PAPER_TRACK_SIZES scaled to `items`. The bundle passes
    parse_gold_bundle. T3 items reference two images each when `with_images` is set.
    """
    if items < 1:
        raise ValueError(f"items must be at least 1 (a bundle cannot be empty), got {items}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    if with_images:
        (out_dir / "images").mkdir(exist_ok=True)
        for index, name in enumerate(_IMAGE_NAMES):
            (out_dir / name).write_bytes(_pattern_png(index))
    path = out_dir / GOLD_FILENAME
    with path.open("w", encoding="utf-8") as handle:
        for track, count in track_sizes(items).items():
            for number in range(1, count + 1):
                item = _make_item(track, number, rng, with_images)
                handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    return path


def write_synthetic_predictions(
    bundle_path: Path,
    out_dir: Path,
    *,
    seed: int = 7,
    quality: float = 0.6,
    coverage: float = 0.95,
) -> dict[Track, Path]:
    """Write one JSONL prediction file per track present in the bundle; return their paths.

    `coverage` is the share of items answered (rounded per track); `quality` is the share of
    reference words kept in each answer (the rest replaced by filler), and for T1 the chance of
    naming the right diagnosis or an alias. Files validate under parse_predictions.
    """
    if not 0.0 <= quality <= 1.0:
        raise ValueError(f"quality must be between 0 and 1, got {quality}")
    if not 0.0 <= coverage <= 1.0:
        raise ValueError(f"coverage must be between 0 and 1, got {coverage}")
    bundle = parse_gold_bundle(Path(bundle_path))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[Track, Path] = {}
    for track in Track:
        items = [item for item in bundle.items if item.track is track]
        if not items:
            continue
        rng = random.Random(f"{seed}:{track.value}")
        answered = set(rng.sample(range(len(items)), round(coverage * len(items))))
        path = out_dir / f"{track.value}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for index, item in enumerate(items):
                if index in answered:
                    record = {"id": item.id, "prediction": _predict(item, rng, quality)}
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        paths[track] = path
    return paths


def png_bytes(width: int, height: int, pixels: bytes) -> bytes:
    """An 8-bit grayscale PNG, built with zlib and struct only (no imaging library needed)."""
    if len(pixels) != width * height:
        raise ValueError(f"expected {width * height} pixels, got {len(pixels)}")

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + pixels[y * width : (y + 1) * width] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _pattern_png(index: int) -> bytes:
    return png_bytes(
        8, 8, bytes(((x * (index + 1) + y * 7) * 16) % 256 for y in range(8) for x in range(8))
    )


def _make_item(track: Track, number: int, rng: random.Random, with_images: bool) -> dict[str, Any]:
    item_id = f"syn-{track.value.lower()}-{number:05d}"
    findings = rng.sample(_FINDINGS, 4)
    context = (
        f"Synthetic case {number}. A {rng.randint(1, 80)}-year-old patient presents with "
        + ", ".join(findings)
        + ". Family history is "
        + rng.choice(["unremarkable", "positive in a sibling", "unknown"])
        + "."
    )
    item: dict[str, Any] = {"id": item_id, "track": track.value, "synthetic": True}
    if track is Track.T1:
        name, aliases, orpha, category = rng.choice(_DISEASES)
        item |= {
            "question": "What is the most likely primary diagnosis?",
            "answer": name,
            "aliases": aliases,
            "orpha_code": orpha,
            "category": category,
            "context": context.replace("Synthetic case", "[DIAGNOSIS_MASKED] synthetic case"),
        }
    elif track is Track.T2:
        name = rng.choice(_DISEASES)[0]
        plan = rng.sample(_PLAN_ELEMENTS, rng.randint(3, 6))
        item |= {
            "question": f"The working diagnosis is {name}. Outline a stage-wise management plan.",
            "answer": "; ".join(plan) + ".",
            "context": context,
            "targets": plan,
        }
    elif track is Track.T3:
        (first, first_finding), (second, second_finding) = rng.sample(_MODALITIES, 2)
        relation = rng.choice(_RELATIONS)
        item |= {
            "question": f"How do the {first} and the {second} relate?",
            "answer": (
                f"{first.capitalize()}: {first_finding}. {second.capitalize()}: "
                f"{second_finding}. Relation: {relation}."
            ),
            "context": context,
            "targets": {"relation_type": relation},
        }
        if with_images:
            item["images"] = rng.sample(_IMAGE_NAMES, 2)
    else:
        tests = rng.sample(_TESTS, rng.randint(3, 5))
        item |= {
            "question": "Which investigations should be done next, in order of priority?",
            "answer": "; ".join(tests) + ".",
            "context": context,
            "targets": tests,
        }
    if with_images and track is not Track.T3 and rng.random() < 0.5:
        item["images"] = [rng.choice(_IMAGE_NAMES)]
    return item


def _predict(item: GoldItemSpec, rng: random.Random, quality: float) -> str:
    if item.track is Track.T1:
        if rng.random() < quality:
            return rng.choice([item.answer, *item.aliases])
        wrong = [name for name, *_ in _DISEASES if name != item.answer]
        return rng.choice(wrong)
    words = [
        word if rng.random() < quality else rng.choice(_FILLER) for word in item.answer.split()
    ]
    return " ".join(words)
