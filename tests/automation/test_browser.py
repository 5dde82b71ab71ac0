"""What a person sees in a browser: the Dagster UI after `make run`, and the release's Data Docs offline.

Headless Chromium from Debian's package (`scripts/install_chromium.sh`, run by `make test`) driven by
Playwright; no browser is downloaded. Without Chromium the tests are skipped, except in CI
(BROWSER_REQUIRED=1), where they fail.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from contextlib import closing
from pathlib import Path

import dagster as dg
import pytest

from tests.conftest import REPO_ROOT
from tests.quality.sample_run import patched_environ

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WEBSERVER = Path(shutil.which("dagster-webserver", path=str(Path(os.sys.executable).parent)) or "dagster-webserver")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM} (scripts/install_chromium.sh installs Debian's package)"
        if os.environ.get("BROWSER_REQUIRED") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def dagster_ui(made_run, tmp_path_factory):
    """The Dagster UI (`make dev` without the daemon) on the instance the run wrote to."""
    root, _, env, done = made_run
    assert done.returncode in (0, 3), done.stdout + done.stderr[-2000:]
    port = free_port()
    log = (tmp_path_factory.mktemp("webserver") / "webserver.log").open("w")
    server = subprocess.Popen(
        [str(WEBSERVER), "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{base}/server_info", timeout=5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the Dagster UI did not start: {Path(log.name).read_text()[-2000:]}")
                time.sleep(1)
        yield base, env
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_the_last_make_run_run_is_on_the_monitoring_jobs_runs_page(dagster_ui, browser):
    base, env = dagster_ui
    with patched_environ({"DAGSTER_HOME": env["DAGSTER_HOME"]}):
        [last] = dg.DagsterInstance.get().get_run_records(dg.RunsFilter(job_name="monitoring_job"), limit=1)
    page = browser.new_page()
    page.goto(f"{base}/locations/school_monitoring/jobs/monitoring_job/runs")
    page.get_by_text(last.dagster_run.run_id[:8], exact=True).first.wait_for(timeout=60_000)
    assert page.get_by_text("Success").count() >= 1
    page.close()


def test_a_marts_checks_have_readable_names_and_descriptions(dagster_ui, browser):
    from pipelines.defs.quality.checks import SUITE_SPECS

    [spec] = [s for s in SUITE_SPECS if s.name == "marts_school_work_indicators"]
    base, _ = dagster_ui
    page = browser.new_page()
    page.goto(f"{base}/assets/{'/'.join(spec.asset_key.path)}?view=checks&checkDetail={spec.name}")
    page.get_by_text(spec.name).first.wait_for(timeout=60_000)
    page.get_by_text(spec.title, exact=False).first.wait_for(timeout=30_000)  # the Russian description
    page.get_by_text("ожиданий проверено").first.wait_for(timeout=30_000)  # its metadata, in Russian
    page.close()


def test_the_published_data_docs_load_offline_without_a_failed_resource(made_run, browser):
    root, _, _, done = made_run
    site = (root / "published" / "current" / "data_docs").resolve()
    assert (site / "index.html").is_file(), done.stdout
    context = browser.new_context(offline=True)
    page = context.new_page()
    failed, remote = [], []
    page.on("requestfailed", lambda request: failed.append(f"{request.url}: {request.failure}"))
    page.on("response", lambda response: response.status >= 400 and failed.append(f"{response.url}: {response.status}"))
    page.on("request", lambda request: request.url.startswith("file://") or remote.append(request.url))
    page.goto((site / "index.html").as_uri())
    links = page.eval_on_selector_all("a[href]", "anchors => anchors.map(a => a.href)")
    pages = sorted({link.split("#")[0] for link in links if link.startswith("file://")})
    assert len(pages) >= 2 * 4  # a result page and a suite page per suite
    for url in pages:
        page.goto(url)
        assert page.title() or page.inner_text("body").strip(), url
        styles = page.eval_on_selector_all("link[rel=stylesheet]", "links => links.map(l => l.sheet !== null)")
        assert styles and all(styles), url  # every stylesheet loaded
    assert failed == [] and remote == []
    context.close()
