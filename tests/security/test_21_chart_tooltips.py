"""#21.15: ECharts writes tooltips with innerHTML, so an organization named
``<img src=x onerror=alert(1)>`` ran script in the dashboard heatmap tooltip. Every tooltip of
static/js/dashboard.js now escapes what it shows. The script is run in node with a stub ECharts
that keeps each chart's options; every tooltip formatter is called with the payload.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

HARNESS = r"""
const fs = require("fs");
const EVIL = "<img src=x onerror=alert(1)>";
const rows = [{ label: EVIL, count: 3, code: "x", share_on_time: 50 }];
const kinds = ["bar", "hbar", "pie", "funnel", "share", "heatmap"];
const data = { bar: rows, hbar: rows, pie: rows, funnel: rows, share: rows,
  heatmap: { orgs: [EVIL], ids: [1], cells: [[0, 0, 50]] } };
const els = kinds.map((k) => ({ dataset: { chart: k, kind: k }, classList: { add() {} }, style: {} }));
const options = [];
global.document = { readyState: "complete", addEventListener() {}, querySelectorAll: () => els,
  getElementById: (id) => (id === "dashboard-data" ? { textContent: JSON.stringify(data) } : { dataset: {} }) };
global.window = { addEventListener() {} };
global.echarts = { init: () => ({ setOption: (o) => options.push(o), on() {}, resize() {} }) };
eval(fs.readFileSync(process.argv[process.argv.length - 1], "utf8"));
const out = options.map((o) => {
  const f = o.tooltip && o.tooltip.formatter;
  if (typeof f !== "function") return "NOT A FUNCTION: " + JSON.stringify(f);
  const heat = o.series[0].type === "heatmap";
  const p = { name: EVIL, value: heat ? [0, 0, EVIL] : EVIL, percent: EVIL, dataIndex: 0 };
  return f(o.tooltip.trigger === "axis" ? [p] : p);
});
console.log(JSON.stringify(out));
"""


def test_21_15_every_dashboard_tooltip_escapes_names():
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("node is not installed")
    script = Path(settings.BASE_DIR) / "static" / "js" / "dashboard.js"
    result = subprocess.run([node, "-e", HARNESS, str(script)], capture_output=True, text=True, timeout=60, check=True)
    tips = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(tips) == 6, tips
    for tip in tips:
        assert "<img" not in tip and "&lt;img src=x onerror=alert(1)&gt;" in tip, tip
