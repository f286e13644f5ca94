"""The paper-reproduction framework: claims as data, derived verdicts, and the md/csv writer."""

from __future__ import annotations

import csv
import io

import pytest

from xaicheck.benchmarks.papers import PAPERS, list_papers, load_paper, run_paper
from xaicheck.benchmarks.papers.claims import (
    Claim,
    Measurement,
    NotAvailable,
    Paper,
    PaperResult,
    evaluate,
    measures,
    need_check,
    need_explainer,
    need_model,
)


def _paper(fns, claims=None) -> Paper:
    claims = claims or (Claim("a", "A holds", "Sec. 1", "1.0"), Claim("b", "B holds", "Fig. 2", "qualitative"),
                        Claim("c", "C holds", "Tab. 3", "2.0"))
    return Paper("toy", "A toy paper", "Nobody 2024", tuple(claims), tuple(fns))


@measures("a", "b")
def _ok():
    return [Measurement("a", True, {"x": 1.0000001, "rows": [[0.1, -2e-17]]}, "matches"),
            Measurement("b", False, {"y": 3}, "y is 3, expected 2")]


@measures("c")
def _missing():
    raise NotAvailable("depends on model 'nope', not available")


@measures("c")
def _crash():
    raise RuntimeError("boom")


def test_verdicts_are_derived_from_measurements():
    result = evaluate(_paper([_ok, _missing]))
    assert result.verdicts() == {"a": "reproduced", "b": "differs", "c": "not run"}
    assert result.counts() == {"reproduced": 1, "differs": 1, "not run": 1}
    assert "not available" in result.results[2].why


def test_a_crashing_measurement_is_reported_not_raised():
    result = evaluate(_paper([_ok, _crash]))
    assert result.verdicts()["c"] == "not run"
    assert "RuntimeError: boom" in result.results[2].why


def test_paper_rejects_claims_without_measure_and_unknown_ids():
    with pytest.raises(ValueError, match="claims without a measure"):
        _paper([_ok])
    with pytest.raises(ValueError, match="unknown claims"):
        _paper([_ok, _missing], claims=(Claim("a", "", "", ""), Claim("b", "", "", "")))
    with pytest.raises(ValueError, match="duplicate"):
        _paper([_ok, _missing], claims=(Claim("a", "", "", ""), Claim("a", "", "", ""), Claim("b", "", "", ""),
                                        Claim("c", "", "", "")))


def test_writer_outputs_markdown_csv_and_table(tmp_path):
    result: PaperResult = evaluate(_paper([_ok, _missing]))
    md, cs = result.write(tmp_path)
    assert md.endswith("papers/toy.md") and cs.endswith("papers/toy.csv")
    text = open(md, encoding="utf-8").read()
    assert "| `a` | Sec. 1 | 1.0 |" in text and "**differs**" in text and "y is 3, expected 2" in text
    rows = list(csv.DictReader(io.StringIO(open(cs, encoding="utf-8").read())))
    assert [r["claim"] for r in rows] == ["a", "b", "c"]
    assert [r["verdict"] for r in rows] == ["reproduced", "differs", "not run"]
    assert rows[0]["measured"] == '{"rows": [[0.1, 0.0]], "x": 1.0}'  # rounded, float noise printed as 0
    table = result.to_table()
    assert "toy: 1 reproduced, 1 differ, 1 not run (3 claims)" in table and "not run" in table
    # same inputs -> same bytes
    assert evaluate(_paper([_ok, _missing])).to_csv() == result.to_csv()


def test_need_helpers_turn_missing_names_into_not_available():
    with pytest.raises(NotAvailable, match="model 'no_such_model'"):
        need_model("no_such_model")
    with pytest.raises(NotAvailable, match="explainer 'no_such_explainer'"):
        need_explainer("no_such_explainer")
    with pytest.raises(NotAvailable, match="check 'no_such_check'"):
        need_check("no_such_check")


def test_every_registered_paper_loads_with_claims():
    assert list_papers() == list(PAPERS)
    assert {"sundararajan2017", "kindermans2017", "adebayo2018", "lundberg2018", "sundararajan_najmi2020",
            "janzing2020", "huang_marques_silva2023", "compare_xai2022", "krishna2022"} <= set(list_papers())
    for name in list_papers():
        paper = load_paper(name)
        assert paper.name == name and paper.claims and paper.measure_fns
        assert all(c.published for c in paper.claims), name
    with pytest.raises(KeyError, match="unknown paper"):
        load_paper("nope2099")


def test_run_paper_writes_both_files(tmp_path):
    result = run_paper("janzing2020", out_dir=tmp_path)
    assert (tmp_path / "papers" / "janzing2020.md").is_file()
    assert (tmp_path / "papers" / "janzing2020.csv").is_file()
    assert len(result.files) == 2 and result.counts()["not run"] == 0
