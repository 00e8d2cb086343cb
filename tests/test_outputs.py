"""What a kernel printed, bounded and cleaned, and what it tells the instructor
(``autograder/outputs.py``): cuts that keep whole characters, text cleaned of what breaks HTML
or JSON, ``LimitOutputSize`` on a synthetic notebook, the findings read from a run's outputs, and
the exit statuses of kernels in plain words.
"""

from __future__ import annotations

import json
import signal

import nbformat
from traitlets.config import Config

from autograder.box import Limits
from autograder.outputs import (
    CUT_PATTERN,
    LimitOutputSize,
    clean_text,
    cut_text,
    death_reason,
    error_output,
    findings_from_outputs,
)
from autograder.run import OUT_OF_TIME

# -- output bounds -------------------------------------------------------------------------------


def limiter(**traits):
    config = Config()
    for name, value in traits.items():
        setattr(config.LimitOutputSize, name, value)
    return LimitOutputSize(config=config)


def code_cell(*outputs) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("print('x')")
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


def stream(text: str, name: str = "stdout") -> dict:
    return {"output_type": "stream", "name": name, "text": text}


EMOJI = "Ünïcødé ✓ 😀👩‍👩‍👧 שלום 中文 e\u0301 "


def test_cut_text_keeps_head_and_tail_whole_characters() -> None:
    text = EMOJI * 10_000
    cut = cut_text(text, 1000)
    assert len(cut) <= 1000
    assert cut.startswith(text[:100]) and cut.endswith(text[-100:])
    found = CUT_PATTERN.search(cut)
    assert found is not None
    removed = int(found.group(0).split()[1].replace(",", ""))
    head, tail = cut[: found.start()].rstrip("\n"), cut[found.end() :].lstrip("\n")
    assert len(head) + removed + len(tail) == len(text)
    # no joiner or combining mark at either side of the cut
    assert head[-1] not in "\u200d\u0301" and tail[0] not in "\u200d\u0301"
    assert cut_text("short", 1000) == "short"


def test_clean_text_removes_what_breaks_html_or_json() -> None:
    dirty = "ok\x00\x07 \ud800 tab\tnew\nline \x1b[0;31mred\x1b[0m \ufffe😀"
    clean = clean_text(dirty)
    assert clean == "ok  tab\tnew\nline \x1b[0;31mred\x1b[0m 😀"
    json.dumps(clean, ensure_ascii=False).encode("utf-8")  # no lone surrogate left


def test_limit_output_size_bounds_every_output_and_the_cell() -> None:
    nb = nbformat.v4.new_notebook()
    big = EMOJI * 40_000  # about a megabyte
    png = "iVBORw0KGgo" + "A" * 3_000_000
    tb = [f"frame {i} " + "x" * 500 for i in range(2000)]
    nb.cells = [
        code_cell(
            stream(big),
            stream("warning\x00 " * 10_000, "stderr"),
            {
                "output_type": "display_data",
                "data": {"image/png": png, "text/plain": "<Figure>"},
                "metadata": {},
            },
            {
                "output_type": "execute_result",
                "execution_count": 1,
                "data": {"text/html": "<b>" + big + "</b>", "text/plain": big},
                "metadata": {},
            },
            *[stream(big) for _ in range(10)],
            {"output_type": "error", "ename": "ValueError", "evalue": big, "traceback": tb},
        ),
        code_cell(stream("small output ✓\n")),
    ]
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("# title"))
    out, _ = limiter(max_chars=20_000, max_cell_chars=100_000).preprocess(nb, {})
    cell = out.cells[1]
    total = sum(len(json.dumps(o, ensure_ascii=False)) for o in cell.outputs)
    assert total < 200_000, total
    kinds = [(o.output_type, o.get("name")) for o in cell.outputs]
    assert ("stream", "stderr") in kinds  # graded cells fail on stderr: never dropped
    assert kinds[-1] == ("error", None)  # nor the error
    assert "image/png" not in cell.outputs[2].data
    assert "removed by the autograder" in cell.outputs[2].data["text/plain"]
    assert "text/html" not in cell.outputs[3].data  # cut markup would break the page
    assert all(len(o.get("text", "")) <= 20_000 for o in cell.outputs)
    assert "\x00" not in cell.outputs[1].text
    assert out.cells[2].outputs[0].text == "small output ✓\n"  # small outputs untouched
    assert "😀👩‍👩‍👧" in cell.outputs[0].text  # unicode survives
    nbformat.validate(out)
    json.loads(nbformat.writes(out))
    found = findings_from_outputs(out)
    assert [f.kind for f in found] == ["output"] and found[0].where == "cell 2"


# -- findings ------------------------------------------------------------------------------------


def error(ename: str, evalue: str = "") -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": []}


def graded_cell(grade_id: str, *outputs) -> nbformat.NotebookNode:
    cell = code_cell(*outputs)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": True, "points": 1}
    return cell


def test_findings_from_outputs() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        graded_cell("t1", error("KeyboardInterrupt"), error("CellTimeoutError")),
        graded_cell("t2", error("MemoryError")),
        graded_cell("t3", error("BlockingIOError", "[Errno 11] Resource temporarily unavailable")),
        graded_cell("a4", error("KernelDied", "the kernel stopped while this cell ran: it died")),
        graded_cell("t5", error("NotRun", "not run")),
        code_cell(error("NotRun", "not run")),
    ]
    found = {f.kind: f for f in findings_from_outputs(nb)}
    assert set(found) == {"timeout", "memory", "processes", "crash"}
    assert found["timeout"].where == "t1" and found["memory"].where == "t2"
    assert found["crash"].where == "a4"
    assert "2 later cells did not run (tests t5 earn nothing)" in found["crash"].message


def test_findings_after_a_stuck_kernel() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        graded_cell("t1", error("CellTimeoutError")),
        graded_cell("t2", error("NotRun", "not run: the kernel did not stop after a timeout")),
        code_cell(error("NotRun", "not run: the kernel did not stop after a timeout")),
    ]
    found = findings_from_outputs(nb)
    assert [(f.kind, f.where) for f in found] == [("timeout", "t1"), ("timeout", "t1")]
    assert "did not stop when interrupted" in found[1].message
    assert "2 later cells did not run (tests t2 earn nothing)" in found[1].message


def test_findings_after_the_notebook_used_up_its_time() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        code_cell(stream("ran\n")),
        code_cell(error(OUT_OF_TIME, "not run: the notebook used up its time (900 s in all)")),
        graded_cell("t3", error(OUT_OF_TIME, "not run: the notebook used up its time")),
    ]
    found = findings_from_outputs(nb)
    assert [(f.kind, f.where) for f in found] == [("timeout", "cell 2")]
    assert "used up its time budget" in found[0].message
    assert "2 cells did not run (tests t3 earn nothing)" in found[0].message


def test_death_reasons_in_plain_words() -> None:
    assert "os._exit" in death_reason(1)
    assert "exit code 0" in death_reason(0)
    assert "segmentation fault" in death_reason(-signal.SIGSEGV)
    assert "killed" in death_reason(-signal.SIGKILL)
    assert "CPU time limit (900 s" in death_reason(-signal.SIGXCPU)
    assert "CPU time limit (1 s" in death_reason(-signal.SIGXCPU, Limits(cpu_seconds=1))
    assert "larger than the limit" in death_reason(-signal.SIGXFSZ)
    assert "unknown" in death_reason(None)


def test_error_output_is_what_nbgrader_reads_as_a_failure() -> None:
    out = error_output("NotRun", "not run")
    assert out.output_type == "error" and out.ename == "NotRun" and out.evalue == "not run"
    assert out.traceback == ["\x1b[0;31mNotRun\x1b[0m: not run"]
