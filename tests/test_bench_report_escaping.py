"""Text outputs escape Markdown: names and messages are data, never markup (issue 17, item 8)."""

from __future__ import annotations

from xaicheck.benchmarks.escaping import md_escape
from xaicheck.benchmarks.records import CellRecord
from xaicheck.benchmarks.runner import _write_counterexamples

PAYLOADS = ["a|b", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "`code`", "[link](javascript:x)",
            "**bold**", "back\\slash", "two\nlines"]


def test_md_escape_leaves_no_markup():
    for p in PAYLOADS:
        out = md_escape(p)
        assert "<" not in out and ">" not in out and "\n" not in out
        # every pipe, backtick, bracket and star is preceded by a backslash (so it prints literally)
        for ch in "|`[]*":
            assert out.count(ch) == out.count("\\" + ch), (p, out)
    assert md_escape("a|b") == "a\\|b" and md_escape("x & <y>") == "x &amp; &lt;y&gt;"
    assert md_escape("integrated_gradients") == "integrated_gradients"  # plain names stay readable


def test_counterexamples_md_escapes_names_and_lines(tmp_path):
    name = "evil|<script>`x`"
    rec = CellRecord(f"{name}/dummy/case/s0", name, "dummy", "case", "axioms", 0, "ok", 0.1, False,
                     "msg", {}, {"line": "f(x)=<img src=1 onerror=alert(1)> | `boom`"}, None, 0.0)
    _write_counterexamples([rec], tmp_path / "counterexamples")
    text = (tmp_path / "counterexamples" / "counterexamples.md").read_text()
    line = text.splitlines()[-1]
    assert "<script>" not in text and "<img" not in text
    assert line == ("- evil\\|&lt;script&gt;\\`x\\`/dummy/case/s0: f(x)=&lt;img src=1 onerror=alert(1)&gt; \\| "
                    "\\`boom\\`")
