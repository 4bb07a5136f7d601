"""`dvc plots show` draws the project's plots without internet, on a page of bounded size.

A throwaway DVC repository gets the project's `[plots]` config section, a copy of
.dvc/plots/ (the self-contained page template and the custom Vega-Lite template
by_variant.json), the project's own dvc.yaml `plots:` section, and small files in
the formats the stages write them (written with the stages' own writers):
  plots/history/<variant>.csv     seed_summary: per-epoch means (and sds) of each variant
  plots/curves.csv                seed_summary: every variant's means in one long table
  plots/kfold/fold_<fold>.csv, plots/kfold_carried.csv   the k-fold histories
  plots/confusion/<name>.csv      evaluate: actual,predicted per test image, two selected models
  plots/kfold_confusion/<kind>.csv  kfold_summary: the same for the best fold and the ensemble
  plots/figures/*.png             the stages' PNG figures
Then it runs the real `dvc plots show`. The page must load no script from the
network; where Debian's chromium is installed, a headless run with every host
name unresolvable must leave a drawn chart (vega's canvas or svg) in each plot's
div, and each by_variant chart must draw one line per variant, over every epoch.
"""

import html.parser
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml
from configobj import ConfigObj
from PIL import Image

from study import config as study_config
from study import files
from study.analysis import artifacts, evaluation
from study.analysis.over_seeds import SD_COLUMNS, summarise_history
from study.data import paths as data_paths
from study.data.facts import NUM_CLASSES, TEST_SIZE
from study.training import runs

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT_DVC_DIR = os.path.join(PROJECT, ".dvc")
CUSTOM_TEMPLATE = "by_variant"  # .dvc/plots/by_variant.json: one line per variant of plots/curves.csv

VARIANTS = ("baseline", "kernel7", "sgd")
SELECTED = VARIANTS[:2]  # the two models evaluate selects: their confusion files only
EPOCHS = 4
FOLDS = (0, 1)
CONFUSION_ROWS = 50  # "test images" of each confusion file, every class among them
FIGURE = os.path.join(data_paths.FIGURES_DIR, "loss_curves.png")

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # No host name resolves: a page that still needed a CDN would stay blank even on a machine online.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--virtual-time-budget=5000",
    "--window-size=1200,1600",
]

# Page size. The committed study's page (dvc_plots/index.html of `dvc plots show` in
# the project) must stay under 10 MB: larger pages load slowly or not at all in a
# browser or a CI artifact viewer. The page is the inline libraries (the template)
# plus every drawn data point as JSON, so the bounds below are per data point; a
# confusion chart has one row per test image (10,000 in the study), which is why
# dvc.yaml draws confusion only for the selected models and the k-fold.
PAGE_LIMIT = 10 * 10**6
CHART_BYTES = 4_000  # one chart's div, script and Vega-Lite spec, without its data
CONFUSION_ROW_BYTES = 80  # {"actual": "T-shirt/top", "predicted": "Ankle boot", "rev": "workspace"},
CURVE_POINT_BYTES = 450  # one epoch of a history for one y field: up to nine full-precision
# numbers with their names, rev, filename and field


def run(command, cwd, timeout=60):
    environment = dict(os.environ, DVC_NO_ANALYTICS="1")
    result = subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def dvc(*arguments, cwd):
    return run([sys.executable, "-m", "dvc", *arguments], cwd)


def project_plots_config():
    return dict(ConfigObj(os.path.join(PROJECT_DVC_DIR, "config")).get("plots", {}))


def project_plot_definitions():
    """The project's dvc.yaml `plots:` list, as written there."""
    with open(os.path.join(PROJECT, "dvc.yaml")) as stream:
        return yaml.safe_load(stream)["plots"]


def definitions(plots):
    """(name, config) of each entry of a dvc.yaml `plots:` list (a bare path has config {})."""
    for entry in plots:
        if isinstance(entry, str):
            yield entry, {}
        else:
            ((name, config),) = entry.items()
            yield name, config or {}


def sources(name, config):
    """The files or directories a plot definition reads: the keys of a `y` mapping, else its name."""
    y = config.get("y")
    return list(y) if isinstance(y, dict) else [name]


def y_fields(config):
    y = config.get("y")
    if isinstance(y, dict):
        (fields,) = y.values()
    else:
        fields = y
    return len(fields) if isinstance(fields, list) else 1


def div_id(name):
    """The id DVC gives a plot's div: every character but letters, digits and _ becomes _."""
    return re.sub(r"\W", "_", name)


def history_rows(offset):
    """Two seeds' histories of EPOCHS epochs, averaged as seed_summary does (means, then sds)."""
    rng = np.random.default_rng(offset)
    per_seed = []
    for _ in range(2):
        loss = 2.3 * 0.8 ** np.arange(1, EPOCHS + 1) + rng.random(EPOCHS) / 10
        accuracy = 1 - loss / 3
        per_seed.append(
            [
                {
                    "epoch": epoch,
                    "loss": epoch_loss,
                    "accuracy": a,
                    "val_loss": epoch_loss * 1.1,
                    "val_accuracy": a - 0.02,
                    "learning_rate": 0.001 * 0.5 ** (epoch // 3),
                }
                for epoch, epoch_loss, a in zip(range(1, EPOCHS + 1), loss.tolist(), accuracy.tolist())
            ]
        )
    return summarise_history(per_seed)


def write_plot_files(root):
    """Small plot files in the stages' formats; returns {path: number of data rows}."""
    rows = {}

    def at(path):
        return str(root / path)

    curves = []
    for i, variant in enumerate(VARIANTS):
        summary = history_rows(i)
        path = artifacts.variant_history(variant)
        files.write_csv(at(path), runs.HISTORY_COLUMNS + SD_COLUMNS, summary)
        rows[path] = len(summary)
        curves += [[int(row[0]), variant, *row[1 : len(runs.HISTORY_COLUMNS)]] for row in summary]
    files.write_csv(at(artifacts.CURVES), ("epoch", "variant", *runs.HISTORY_COLUMNS[1:]), curves)
    rows[artifacts.CURVES] = len(curves)

    def history(seed, epochs):
        return [
            dict(zip(runs.HISTORY_COLUMNS, [epoch, *np.random.default_rng(seed + epoch).random(5).tolist()]))
            for epoch in range(1, epochs + 1)
        ]

    for fold in FOLDS:
        path = runs.fold_run(fold)["history"]
        os.makedirs(os.path.dirname(at(path)), exist_ok=True)
        files.write_history(at(path), history(fold, EPOCHS), runs.HISTORY_COLUMNS)
        rows[path] = EPOCHS
    path = runs.carried_run()["history"]
    files.write_history(at(path), history(99, EPOCHS * len(FOLDS)), runs.HISTORY_COLUMNS)
    rows[path] = EPOCHS * len(FOLDS)

    # One row per test image, as evaluate and kfold_summary write them; every class, so the longest names too.
    actual = np.arange(CONFUSION_ROWS) % NUM_CLASSES
    confusion = [os.path.join(artifacts.CONFUSION_DIR, f"{name}.csv") for name in SELECTED]
    confusion += [os.path.join(artifacts.KFOLD_CONFUSION_DIR, f"{kind}.csv") for kind in ("best", "ensemble")]
    for shift, path in enumerate(confusion):
        predicted = np.where(np.arange(CONFUSION_ROWS) % 4 == 0, (actual + shift + 1) % NUM_CLASSES, actual)
        os.makedirs(os.path.dirname(at(path)), exist_ok=True)
        evaluation.write_confusion_csv(at(path), actual, predicted)
        rows[path] = CONFUSION_ROWS

    os.makedirs(os.path.dirname(at(FIGURE)), exist_ok=True)
    Image.new("L", (16, 16), 128).save(at(FIGURE))
    return rows


def expected_charts(plots, rows):
    """{div id: (number of data points drawn, is a confusion chart)} of every Vega chart
    the page should hold."""
    charts = {}
    for name, config in definitions(plots):
        paths = sources(name, config)
        if isinstance(config.get("y"), dict):  # a titled chart of one or more sources
            charts[div_id(name)] = (sum(rows[p] for p in paths) * y_fields(config), False)
            continue
        for path in sorted(rows):  # a file, or a directory: one chart per file in it
            if path == name or os.path.dirname(path) == name.rstrip("/"):
                charts[div_id(path)] = (rows[path] * y_fields(config), config.get("template") == "confusion")
    return charts


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """(repository, path of dvc_plots/index.html, its text, expected charts, the project's
    plot definitions)."""
    plots_config = project_plots_config()
    template = plots_config.get("html_template")
    assert template, "the project's .dvc/config sets no plots.html_template"

    root = tmp_path_factory.mktemp("plots_repo")
    run(["git", "init", "-q"], root)
    dvc("init", "-q", cwd=root)
    dvc("config", "core.analytics", "false", cwd=root)
    # .dvc/plots/ as the project has it: the page template and the custom Vega-Lite templates.
    shutil.copytree(os.path.join(PROJECT_DVC_DIR, "plots"), root / ".dvc" / "plots")
    assert (root / ".dvc" / "plots" / f"{CUSTOM_TEMPLATE}.json").is_file()
    # The same [plots] section as the project; a relative html_template is relative to .dvc/
    # (as DVC reads it).
    if not os.path.isabs(template):
        target = root / ".dvc" / template
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(os.path.join(PROJECT_DVC_DIR, template), target)
    for key, value in plots_config.items():
        dvc("config", f"plots.{key}", str(value), cwd=root)

    rows = write_plot_files(root)
    plots = project_plot_definitions()
    for name, config in definitions(plots):
        for path in sources(name, config):
            assert (root / path).exists(), (
                f"dvc.yaml plots: {path} is not written by this test; add it to write_plot_files"
            )
    (root / "dvc.yaml").write_text(yaml.safe_dump({"plots": plots}, sort_keys=False))

    dvc("plots", "show", cwd=root)
    index = root / plots_config.get("out_dir", "dvc_plots") / "index.html"
    text = index.read_text(encoding="utf-8")
    charts = expected_charts(plots, rows)
    ids = re.findall(r"vegaEmbed\('#([^']+)'", text)
    assert sorted(ids) == sorted(charts), (
        f"expected one vega plot div per chart {sorted(charts)}, found {ids}"
    )
    return root, index, text, charts, plots


def test_page_loads_no_script_from_the_network(page):
    _, _, text, _, _ = page
    remote = re.findall(
        r"""<script\b[^>]*\bsrc\s*=\s*["']?\s*(?:https?:)?//[^>]*>""", text, flags=re.IGNORECASE
    )
    assert not remote, f"the plots page still loads scripts from the network: {remote}"
    assert "https://cdn.jsdelivr.net/npm/vega" not in text
    # The libraries are inline instead.
    for name in ("vega", "vega-lite", "vega-embed"):
        assert re.search(rf"<!-- {name}@\d+\.\d+\.\d+ ", text), f"{name} is not inlined in the page"


def test_figures_are_local_images(page):
    root, index, text, _, plots = page
    assert data_paths.FIGURES_DIR in [name for name, _ in definitions(plots)], (
        "dvc.yaml no longer shows the figures"
    )
    images = re.findall(
        r'<img src="([^"]+)"', text[text.rindex("</head>") :]
    )  # the body: not vega-embed's code
    assert len(images) == 1, images
    assert not re.match(r"(?:https?:)?//", images[0])
    assert (index.parent / images[0]).read_bytes() == (root / FIGURE).read_bytes()


def chart_bound(points, confusion):
    return CHART_BYTES + points * (CONFUSION_ROW_BYTES if confusion else CURVE_POINT_BYTES)


def test_page_size_is_bounded_by_the_rows_drawn(page):
    _, index, text, charts, _ = page
    template = os.path.join(PROJECT_DVC_DIR, project_plots_config()["html_template"])

    def bound(charts):
        return os.path.getsize(template) + sum(chart_bound(*chart) for chart in charts.values())

    # Each chart on its own: one data point per row and y field, each within its bytes, and the rest of
    # the chart within CHART_BYTES; so a confusion row that grew (a seed column, a file name) is caught.
    divs = dict(
        re.findall(r'<div id = "([^"]+)">(.*?)</div>', text[text.rindex("</head>") :], flags=re.DOTALL)
    )
    assert sorted(divs) == sorted(charts)
    for plot, (points, confusion) in charts.items():
        values = json.loads(re.search(r"var spec = (\{.*\});", divs[plot]).group(1))["data"]["values"]
        assert len(values) == points, f"{plot}: {len(values)} data points, expected {points}"
        per_point = CONFUSION_ROW_BYTES if confusion else CURVE_POINT_BYTES
        largest = max(len(json.dumps(value).encode()) + 2 for value in values)  # with its ", "
        assert largest <= per_point, (
            f"{plot}: a data point of {largest} bytes, over {per_point}: DVC writes more per row than this "
            "test allows, so the study's page may pass 10 MB"
        )
        rest = len(divs[plot].encode()) - len(json.dumps(values).encode())
        assert rest <= CHART_BYTES, f"{plot}: {rest} bytes besides its data, over {CHART_BYTES}"
    size = os.path.getsize(index)
    assert size <= bound(charts), (
        f"dvc_plots/index.html is {size} bytes for {len(charts)} charts, over {bound(charts)}"
    )
    # The same bounds at the study's scale: each confusion file has a row per test image,
    # each history a row per epoch of every variant, fold and the carried model.
    study = study_config.load(os.path.join(PROJECT, "params.yaml"))
    variants = study.variant_names
    epochs = study.spec("baseline").epochs
    n_splits = study.kfold.n_splits
    per_file = {
        artifacts.HISTORY_DIR: variants,
        os.path.dirname(runs.fold_run(0)["history"]): range(n_splits),
        artifacts.CONFUSION_DIR: range(study.evaluate.select_count),
        artifacts.KFOLD_CONFUSION_DIR: ("best", "ensemble"),
    }
    study_charts = {}
    for name, config in definitions(page[4]):
        if config.get("template") == "confusion":
            points, confusion = TEST_SIZE, True
        else:
            points, confusion = epochs * y_fields(config), False
        if isinstance(config.get("y"), dict):  # plots/curves.csv: every variant in one chart
            study_charts[name] = (points * len(variants), False)
        elif name in per_file:
            study_charts.update({(name, key): (points, confusion) for key in per_file[name]})
        elif name == runs.carried_run()["history"]:  # every fold's epochs end to end
            study_charts[name] = (points * n_splits, False)
        else:
            assert name == data_paths.FIGURES_DIR, (
                f"dvc.yaml plots: {name}: add it to the study's page estimate"
            )
    assert bound(study_charts) < PAGE_LIMIT, (
        f"at the study's scale the plots page may reach {bound(study_charts)} bytes, over {PAGE_LIMIT}"
    )


class PlotDivs(html.parser.HTMLParser):
    """Counts the drawn vega charts (<canvas class="marks"> or <svg class="marks">) inside each
    div with an id, and keeps the attributes of those divs."""

    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }

    def __init__(self, ids):
        super().__init__()
        self.ids, self.stack, self.charts, self.attributes = set(ids), [], {i: 0 for i in ids}, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("canvas", "svg") and "marks" in (attrs.get("class") or "").split():
            for _, div in self.stack:
                if div is not None:
                    self.charts[div] += 1
        if tag == "div" and attrs.get("id") in self.ids:
            self.attributes[attrs["id"]] = attrs
            self.stack.append((tag, attrs["id"]))
        elif tag not in self.VOID:
            self.stack.append((tag, None))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def classes(self, plot):
        return (self.attributes.get(plot, {}).get("class") or "").split()


def chromium_dom(page_path, tmp_path):
    chromium = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
    )
    if chromium is None:
        pytest.skip("chromium is not installed (scripts/setup.sh installs Debian's chromium where apt works)")
    return run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            page_path.as_uri(),
        ],
        cwd=tmp_path,
    )


def test_chromium_draws_every_plot_offline(page, tmp_path):
    _, index, _, charts, _ = page
    parser = PlotDivs(charts)
    parser.feed(chromium_dom(index, tmp_path))
    for plot in charts:
        assert "vega-embed" in parser.classes(plot), f"vegaEmbed never ran for {plot}"
        assert parser.charts[plot] >= 1, f"no chart drawn in {plot}"


# Wraps vegaEmbed: once a chart is drawn, its div gets data-lines, [[variant, points]] of
# each line mark in Vega's scenegraph (what the canvas shows; the DOM holds only pixels).
LINES_PROBE = """<script>
(function () {
  const embed = window.vegaEmbed;
  window.vegaEmbed = function (element, spec, options) {
    return embed(element, spec, options).then(function (result) {
      const lines = [];
      (function walk(mark) {
        if (mark.marktype === "line" && mark.items.length)
          lines.push([String(mark.items[0].datum.variant), mark.items.length]);
        for (const item of mark.items || []) for (const child of item.items || []) walk(child);
      })(result.view.scenegraph().root);
      document.querySelector(element).setAttribute("data-lines", JSON.stringify(lines));
      return result;
    });
  };
})();
</script>
"""


def test_chromium_draws_one_line_per_variant_offline(page, tmp_path):
    _, index, text, charts, plots = page
    by_variant = [
        div_id(name) for name, config in definitions(plots) if config.get("template") == CUSTOM_TEMPLATE
    ]
    assert by_variant, f"dvc.yaml draws no chart with the {CUSTOM_TEMPLATE} template"
    # The probe goes after the inline libraries (the last </head>) and before the plots' scripts.
    head_end = text.rindex("</head>")
    probe = index.parent / "probe.html"
    probe.write_text(text[:head_end] + LINES_PROBE + text[head_end:], encoding="utf-8")
    parser = PlotDivs(charts)
    parser.feed(chromium_dom(probe, tmp_path))
    for plot in by_variant:
        assert parser.charts[plot] >= 1, f"no chart drawn in {plot}"
        lines = json.loads(parser.attributes[plot].get("data-lines", "null"))
        assert sorted(lines) == [[variant, EPOCHS] for variant in VARIANTS], f"{plot}: lines {lines}"
