"""The docs site: built strictly from the registry, links intact, catalog filtering in a real browser."""
from __future__ import annotations

import html.parser
import json
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def registry_ids() -> list[str]:
    return sorted(p.stem for p in (ROOT / "registry").glob("*.yaml"))


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and ((tag == "a" and name == "href") or (tag in ("script", "img") and name == "src")
                          or (tag == "link" and name == "href")):
                self.targets.append(value)


def test_one_page_per_entry_and_catalog_rows(site):
    ids = registry_ids()
    assert ids, "the registry is empty"
    for dataset_id in ids:
        assert (site / "datasets" / dataset_id / "index.html").is_file(), dataset_id
    catalog = (site / "catalog" / "index.html").read_text()
    assert catalog.count("<tr data-search=") == len(ids)
    for dataset_id in ids:
        assert f'href="../datasets/{dataset_id}/index.html"' in catalog


def test_no_internal_link_is_broken(site):
    broken = []
    for page in site.rglob("*.html"):
        if page.name == "404.html":  # served from the site root by web servers: absolute links by design
            continue
        parser = Links()
        parser.feed(page.read_text(errors="replace"))
        for target in parser.targets:
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or not parts.path or target.startswith(("mailto:", "javascript:")):
                continue
            resolved = (page.parent / unquote(parts.path)).resolve()
            if resolved.is_dir():
                resolved = resolved / "index.html"
            if not resolved.exists():
                broken.append(f"{page.relative_to(site)} -> {target}")
    assert broken == []


def test_noncommercial_warning_on_dataset_pages(site):
    import yaml

    for path in (ROOT / "registry").glob("*.yaml"):
        entry = yaml.safe_load(path.read_text())
        if "-NC" in entry.get("license", "").upper():
            page = (site / "datasets" / entry["id"] / "index.html").read_text()
            assert "Non-commercial use only" in page, entry["id"]


class JsonLd(html.parser.HTMLParser):
    """The text of every <script type="application/ld+json"> of a page."""

    def __init__(self):
        super().__init__()
        self.scripts: list[str] = []
        self._inside = False

    def handle_starttag(self, tag, attrs):
        self._inside = tag == "script" and dict(attrs).get("type") == "application/ld+json"
        if self._inside:
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._inside = False

    def handle_data(self, data):
        if self._inside:
            self.scripts[-1] += data


def test_dataset_pages_embed_and_link_their_croissant_file(site):
    import mlcroissant as mlc

    for dataset_id in registry_ids():
        folder = site / "datasets" / dataset_id
        page = (folder / "index.html").read_text()
        parser = JsonLd()
        parser.feed(page)
        assert len(parser.scripts) == 1, dataset_id
        embedded = json.loads(parser.scripts[0])
        assert embedded == json.loads((folder / "croissant.json").read_text()), dataset_id
        assert embedded["@type"] == "sc:Dataset" and embedded["conformsTo"] == "http://mlcommons.org/croissant/1.0"
        assert 'href="croissant.json"' in page
    served = site / "datasets" / "bach" / "croissant.json"
    assert mlc.Dataset(jsonld=str(served)).metadata.name == "BACH"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium is needed for the docs tests (apt-get install chromium); not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        yield browser
        browser.close()


def open_page(browser, url):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(url)
    page.wait_for_load_state("load")
    return page, errors


def visible_rows(page):
    return page.locator("#hd-catalog tbody tr:not([hidden])")


def test_catalog_filters_as_you_type_in_chromium(site, browser):
    page, errors = open_page(browser, (site / "catalog" / "index.html").as_uri())
    total = visible_rows(page).count()
    assert total == len(registry_ids())
    page.fill("#hd-filter", "breast")
    shown = visible_rows(page)
    assert 0 < shown.count() < total
    for text in shown.evaluate_all("rows => rows.map(r => r.getAttribute('data-search'))"):
        assert "breast" in text
    assert page.text_content("#hd-count") == f"{shown.count()} of {total}"
    page.fill("#hd-filter", "zzzz-no-such-dataset")
    assert visible_rows(page).count() == 0
    page.fill("#hd-filter", "")
    page.select_option("select[data-facet='stain']", "ihc")
    stains = visible_rows(page).evaluate_all("rows => rows.map(r => r.getAttribute('data-stain'))")
    assert stains and all("ihc" in s.split("|") for s in stains)
    assert errors == []
    page.close()


def test_sorting_and_dataset_page_in_chromium(site, browser):
    page, errors = open_page(browser, (site / "catalog" / "index.html").as_uri())
    page.click("#hd-catalog th:nth-child(7)")  # Year
    years = [int(y) if y.strip() else -1 for y in
             page.locator("#hd-catalog tbody tr td:nth-child(7)").all_text_contents()]
    assert years == sorted(years)
    first = page.locator("#hd-catalog tbody tr td:first-child a").first
    name = first.text_content()
    first.click()
    page.wait_for_load_state("load")
    assert page.locator("h1").first.text_content().strip(" ¶\n") == name.strip()
    assert "histodata fetch" in page.inner_text("body")
    assert errors == []
    page.close()
