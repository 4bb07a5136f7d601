"""`dvc plots show` uses the project's self-contained HTML template, so the page draws without internet.

A throwaway DVC repository gets the project's `[plots]` config section and the template it names,
two small plots (a linear one and a confusion matrix) and runs the real `dvc plots show`. The page
must load no script from the network; where Debian's chromium is installed, a headless run with
every host name unresolvable must leave a drawn chart (vega's canvas or svg) in each plot's div.
"""

import html.parser
import os
import re
import shutil
import subprocess
import sys

import pytest
from configobj import ConfigObj

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT_DVC_DIR = os.path.join(PROJECT, ".dvc")

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # No host name resolves: a page that still needed a CDN would stay blank even on a machine online.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--virtual-time-budget=5000", "--window-size=1200,1600",
]


def run(command, cwd, timeout=60):
    environment = dict(os.environ, DVC_NO_ANALYTICS="1")
    result = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def dvc(*arguments, cwd):
    return run([sys.executable, "-m", "dvc", *arguments], cwd)


def project_plots_config():
    return dict(ConfigObj(os.path.join(PROJECT_DVC_DIR, "config")).get("plots", {}))


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """(repository, text of dvc_plots/index.html, ids of the plot divs)."""
    plots_config = project_plots_config()
    template = plots_config.get("html_template")
    assert template, "the project's .dvc/config sets no plots.html_template"

    root = tmp_path_factory.mktemp("plots_repo")
    run(["git", "init", "-q"], root)
    dvc("init", "-q", cwd=root)
    dvc("config", "core.analytics", "false", cwd=root)
    # The same [plots] section as the project; a relative html_template is relative to .dvc/ (as DVC reads it).
    if not os.path.isabs(template):
        target = root / ".dvc" / template
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(os.path.join(PROJECT_DVC_DIR, template), target)
    for key, value in plots_config.items():
        dvc("config", f"plots.{key}", str(value), cwd=root)

    (root / "train.csv").write_text(
        "epoch,loss\n" + "".join(f"{epoch},{2.3 * 0.8 ** epoch + 0.1:.4f}\n" for epoch in range(1, 11))
    )
    labels = ["T-shirt", "Trouser", "Pullover"]
    # As stages/evaluate.py writes it: one row per test image and seed, the seed first.
    (root / "confusion.csv").write_text(
        "seed,actual,predicted\n"
        + "".join(f"{seed},{a},{labels[(i + j + seed) % 3] if j < 2 else a}\n"
                  for seed in (42, 43) for i, a in enumerate(labels) for j in range(5))
    )
    (root / "dvc.yaml").write_text(
        "plots:\n"
        "  - train.csv:\n      template: linear\n      x: epoch\n      y: loss\n"
        "  - confusion.csv:\n      template: confusion\n      x: predicted\n      y: actual\n"
    )
    dvc("plots", "show", cwd=root)
    index = root / plots_config.get("out_dir", "dvc_plots") / "index.html"
    text = index.read_text(encoding="utf-8")
    ids = re.findall(r"vegaEmbed\('#([^']+)'", text)
    assert len(ids) == 2, f"expected one vega plot div per plot, found {ids}"
    return root, index, text, ids


def test_page_loads_no_script_from_the_network(page):
    _, _, text, _ = page
    remote = re.findall(r"""<script\b[^>]*\bsrc\s*=\s*["']?\s*(?:https?:)?//[^>]*>""", text, flags=re.IGNORECASE)
    assert not remote, f"the plots page still loads scripts from the network: {remote}"
    assert "https://cdn.jsdelivr.net/npm/vega" not in text
    # The libraries are inline instead.
    for name in ("vega", "vega-lite", "vega-embed"):
        assert re.search(rf"<!-- {name}@\d+\.\d+\.\d+ ", text), f"{name} is not inlined in the page"


class PlotDivs(html.parser.HTMLParser):
    """Counts the drawn vega charts (<canvas class="marks"> or <svg class="marks">) inside each div with an id."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, ids):
        super().__init__()
        self.ids, self.stack, self.charts, self.classes = set(ids), [], {i: 0 for i in ids}, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("canvas", "svg") and "marks" in (attrs.get("class") or "").split():
            for _, div in self.stack:
                if div is not None:
                    self.charts[div] += 1
        if tag == "div" and attrs.get("id") in self.ids:
            self.classes[attrs["id"]] = (attrs.get("class") or "").split()
            self.stack.append((tag, attrs["id"]))
        elif tag not in self.VOID:
            self.stack.append((tag, None))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass


def test_chromium_draws_every_plot_offline(page, tmp_path):
    chromium = shutil.which("chromium") or ("/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None)
    if chromium is None:
        pytest.skip("chromium is not installed (scripts/setup.sh installs Debian's chromium where apt works)")
    _, index, _, ids = page
    dom = run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", index.as_uri()],
        cwd=tmp_path,
    )
    parser = PlotDivs(ids)
    parser.feed(dom)
    for plot in ids:
        assert "vega-embed" in parser.classes.get(plot, []), f"vegaEmbed never ran for {plot}"
        assert parser.charts[plot] >= 1, f"no chart drawn in {plot}"
