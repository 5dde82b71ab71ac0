"""The release carries the checks' Data Docs, readable offline, and a README for analysts."""

import re

from pipelines.data_docs import missing_references
from pipelines.defs.publish.readme import DATA_DOCS, README
from pipelines.defs.quality.checks import SUITE_SPECS

REMOTE = re.compile(r"""(?:href|src)=["'](?:https?:)?//|url\(["']?(?:https?:)?//|<script""", re.I)


def test_data_docs_in_the_release_have_every_page_and_nothing_remote(sample):
    site = sample.publish_dir / "current" / DATA_DOCS
    pages = sorted(site.rglob("*.html"))
    for spec in SUITE_SPECS:
        assert (site / "expectations" / f"{spec.name}.html").is_file(), spec.name
        assert any(spec.name in p.relative_to(site).parts for p in (site / "validations").rglob("*.html"))
    assert missing_references(site) == []
    for page in pages:
        assert not REMOTE.search(page.read_text(encoding="utf-8")), page
    index = (site / "index.html").read_text(encoding="utf-8")
    assert index.count("<tr>") == len(SUITE_SPECS) + 1
    for spec in SUITE_SPECS:
        assert spec.title in index
    assert "не пройден" in index and "пройден</span>" in index


def test_the_readme_names_every_file_of_the_release(sample):
    release = sample.publish_dir / "current"
    lines = (release / README).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith(f"Выпуск {release.resolve().name}: ")
    named = {word.strip(",:") for line in lines for word in line.split()}
    for path in release.iterdir():
        assert path.name in named or f"{path.name}/" in named or f"{path.name}/index.html" in named, path.name
    for parquet in (release / "parquet").glob("*.parquet"):
        assert parquet.name in named
    manifest = (release / "manifest.json").read_text(encoding="utf-8")
    assert f'"{README}"' in manifest and f'"{DATA_DOCS}/index.html"' in manifest
