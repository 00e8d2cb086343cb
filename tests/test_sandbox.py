"""The sandbox of the autograder (``autograder/sandbox.py``).

The launcher's limits are checked on small Python programs (no kernel): memory, CPU time, file
size, the process limit (as an unprivileged user id when we are root, and the fallback without
one), and death with the parent. Then the worker's cleanup of leftover processes, the output
bounds on synthetic notebooks, the wiring into nbgrader's configuration, and two notebooks run
in real sandboxed kernels (a kernel that dies, a kernel stuck past its timeout).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config

from autograder import sandbox
from autograder.sandbox import (
    CUT_PATTERN,
    Limits,
    clean_text,
    configure,
    cut_text,
    death_reason,
    findings_from_outputs,
)

LINUX = sys.platform.startswith("linux")
ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False
linux = pytest.mark.skipif(not LINUX, reason="Linux only (prctl, /proc, seccomp)")


def run_limited(program: str, *options: str, python: str = sys.executable, timeout: float = 60):
    """Run ``program`` (Python source) through the launcher; the finished process."""
    return subprocess.run(
        [sys.executable, "-m", "autograder.sandbox", *options, "--", python, "-c", program],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd="/tmp" if LINUX else None,
    )


def reachable_python() -> str | None:
    """A Python an unprivileged user id can run (for the user-switch path), if any."""
    for candidate in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        if not os.path.exists(candidate):
            continue
        claimed = sandbox._claim_uid()
        if claimed is None:
            return None
        uid, fd = claimed
        try:
            if not sandbox._reachable(uid, [(candidate, os.X_OK), ("/tmp", os.R_OK | os.X_OK)]):
                lib = subprocess.run(
                    [candidate, "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"],
                    capture_output=True,
                    text=True,
                ).stdout.strip()
                if lib and not sandbox._reachable(uid, [(lib, os.R_OK | os.X_OK)]):
                    return candidate
        finally:
            os.close(fd)
    return None


# -- the launcher's limits -----------------------------------------------------------------------


def test_memory_limit_makes_a_huge_allocation_fail() -> None:
    program = textwrap.dedent(
        """
        small = bytearray(50 * 2**20)
        try:
            huge = bytes(2 * 2**30)  # calloc: address space, no pages touched
        except MemoryError:
            print("MemoryError")
        """
    )
    done = run_limited(program, "--memory-mb", "1024")
    assert done.returncode == 0, done.stderr
    assert "MemoryError" in done.stdout
    unlimited = run_limited(program, "--memory-mb", "0")
    assert "MemoryError" not in unlimited.stdout  # the limit, not the machine, said no


def test_cpu_limit_ends_a_busy_loop_with_sigxcpu() -> None:
    start = time.monotonic()
    done = run_limited("while True: pass", "--cpu-seconds", "1", timeout=30)
    assert done.returncode == -signal.SIGXCPU, (done.returncode, done.stderr)
    assert time.monotonic() - start < 15
    assert "CPU time limit (1 s" in death_reason(done.returncode, Limits(cpu_seconds=1))


def test_file_size_limit() -> None:
    program = textwrap.dedent(
        """
        import os, tempfile
        path = os.path.join(tempfile.gettempdir(), f"sandbox-fsize-{os.getpid()}")
        try:
            with open(path, "wb") as fh:
                fh.write(b"x" * 100_000)
                fh.flush()
                try:
                    fh.write(b"x" * (3 * 2**20))
                    fh.flush()
                    print("wrote it all")
                except OSError as exc:
                    print("refused", exc.errno)
        finally:
            os.unlink(path)
        """
    )
    done = run_limited(program, "--file-size-mb", "1")
    assert done.returncode == 0, done.stderr
    assert "refused 27" in done.stdout  # EFBIG, not a signal: Python ignores SIGXFSZ


def test_no_core_files_and_modest_open_files() -> None:
    program = (
        "import resource as r; print(r.getrlimit(r.RLIMIT_CORE), r.getrlimit(r.RLIMIT_NOFILE))"
    )
    done = run_limited(program, "--open-files", "256")
    assert done.stdout.strip() == "(0, 0) (256, 256)", done.stderr


FORK_LOOP = textwrap.dedent(
    """
    import os, time
    children = []
    try:
        for _ in range(200):
            pid = os.fork()
            if pid == 0:
                time.sleep(30)
                os._exit(0)
            children.append(pid)
    except OSError as exc:
        print("stopped:", exc.errno)
    for pid in children:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    print("uid", os.getuid(), "forks", len(children))
    """
)


@linux
@pytest.mark.skipif(not ROOT, reason="the user switch happens only as root")
def test_process_limit_as_an_unprivileged_user_id() -> None:
    python = reachable_python()
    if python is None:
        pytest.skip("no Python that an unprivileged user can run")
    done = run_limited(FORK_LOOP, "--processes", "8", python=python)
    assert done.returncode == 0, done.stderr
    words = done.stdout.split()
    uid, forks = int(words[words.index("uid") + 1]), int(words[words.index("forks") + 1])
    assert uid >= sandbox.UID_BASE
    assert "stopped: 11" in done.stdout  # EAGAIN
    assert 1 <= forks <= 8, done.stdout
    assert "runs as root" not in done.stderr


@linux
@pytest.mark.skipif(not ROOT, reason="the fallback is for root")
def test_process_limit_as_root_without_a_user_switch() -> None:
    """Root ignores RLIMIT_NPROC: the kernel may then start threads, but no process at all."""
    program = FORK_LOOP + textwrap.dedent(
        """
        import threading
        t = threading.Thread(target=print, args=("thread ran",))
        t.start()
        t.join()
        """
    )
    done = run_limited(program, "--processes", "8", "--no-switch-user")
    assert done.returncode == 0, done.stderr
    assert "uid 0 forks 0" in done.stdout and "stopped: 11" in done.stdout
    assert "thread ran" in done.stdout


@linux
@pytest.mark.skipif(not ROOT, reason="the fallback is for root")
def test_unreachable_python_falls_back_to_root_and_says_why(tmp_path: Path) -> None:
    hidden = tmp_path / "private"  # a 0700 folder, as made by mktemp -d
    hidden.mkdir(mode=0o700)
    python = hidden / "python3"
    os.symlink(os.path.realpath(sys.executable), python)
    done = run_limited(FORK_LOOP, "--processes", "8", python=str(python))
    assert done.returncode == 0, done.stderr
    assert "the kernel runs as root" in done.stderr
    assert str(python) in done.stderr  # names what is out of reach
    assert "uid 0 forks 0" in done.stdout


@linux
def test_the_kernel_dies_with_its_parent(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    parent = textwrap.dedent(
        f"""
        import os, subprocess, sys, time
        child = subprocess.Popen(
            [sys.executable, "-m", "autograder.sandbox", "--no-switch-user", "--",
             sys.executable, "-c",
             "import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); "
             "time.sleep(60)"],
        )
        for _ in range(500):
            if os.path.exists({str(pidfile)!r}) and open({str(pidfile)!r}).read():
                break
            time.sleep(0.02)
        os._exit(0)
        """
    )
    subprocess.run([sys.executable, "-c", parent], timeout=30, check=True, cwd=os.getcwd())
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.05)
    assert not alive(pid), "the kernel outlived the process that started it"


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            state = [ln for ln in fh if ln.startswith("State:")][0]
        return " Z " not in state and "zombie" not in state
    except (OSError, IndexError):
        return False


# -- the worker's cleanup ------------------------------------------------------------------------


@linux
def test_kill_leftovers_ends_orphans_of_a_dead_kernel() -> None:
    """A sleeper double-forked away from its parent comes back to the subreaper and is killed."""
    program = textwrap.dedent(
        """
        import os, sys, time
        from autograder import sandbox
        assert sandbox.become_subreaper()
        read, write = os.pipe()
        middle = os.fork()
        if middle == 0:  # the kernel: starts a daemon and dies
            os.setsid()
            if os.fork() == 0:
                os.write(write, str(os.getpid()).encode())
                time.sleep(60)
                os._exit(0)
            os._exit(0)
        os.waitpid(middle, 0)
        sleeper = int(os.read(read, 32))
        deadline = time.monotonic() + 10
        while sandbox._processes()[sleeper].ppid != os.getpid():  # reparented to us
            assert time.monotonic() < deadline
            time.sleep(0.01)
        killed = sandbox.kill_leftovers()
        print(killed, os.path.exists(f"/proc/{sleeper}"))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "False"]


@linux
@pytest.mark.skipif(not ROOT, reason="user ids are switched only as root")
def test_kill_leftovers_spares_a_user_id_another_kernel_holds(tmp_path: Path) -> None:
    """Processes of a sandbox user id are killed only when no kernel holds that id's lock."""
    claimed = sandbox._claim_uid()
    assert claimed is not None
    uid, fd = claimed
    pidfile = tmp_path / "pid"
    program = (
        f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); "
        f"os.setgid({uid}); os.setuid({uid}); time.sleep(60)"
    )
    # not our descendant: started through a session of its own whose leader exits at once
    subprocess.run(
        ["setsid", "sh", "-c", f'"{sys.executable}" -c "{program}" >/dev/null 2>&1 &'], check=True
    )
    deadline = time.monotonic() + 10
    while not (pidfile.exists() and pidfile.read_text()):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    pid = int(pidfile.read_text())
    while sandbox._processes().get(pid) is None or sandbox._processes()[pid].uid != uid:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        for held in (True, False):
            if not held:
                os.close(fd)  # the other kernel is gone: its id may be cleared now
            uid_file = tmp_path / f"uid-{held}"
            uid_file.write_text(f"{uid}\n\n")
            program = (
                "from autograder import sandbox; "
                f"sandbox._UID_FILES.append({str(uid_file)!r}); print(sandbox.kill_leftovers())"
            )
            done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
            killed = int(done.stdout)
            assert (killed, alive(pid)) == ((0, True) if held else (1, False))
    finally:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


@linux
def test_kill_leftovers_with_nothing_left_is_quick() -> None:
    program = (
        "import time; from autograder import sandbox; start = time.monotonic(); "
        "print(sandbox.kill_leftovers(), time.monotonic() - start < 1)"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.stdout.split() == ["0", "True"], done.stderr


# -- output bounds -------------------------------------------------------------------------------


def limiter(**traits):
    config = Config()
    for name, value in traits.items():
        setattr(config.LimitOutputSize, name, value)
    return sandbox.LimitOutputSize(config=config)


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


def test_death_reasons_in_plain_words() -> None:
    assert "os._exit" in death_reason(1)
    assert "segmentation fault" in death_reason(-signal.SIGSEGV)
    assert "killed" in death_reason(-signal.SIGKILL)
    assert "CPU time limit (900 s" in death_reason(-signal.SIGXCPU)
    assert "unknown" in death_reason(None)


# -- wiring into nbgrader ------------------------------------------------------------------------


def test_configure_puts_the_sandbox_into_autograde() -> None:
    config = Config()
    configure(config, timeout=7, startup="x = 1", memory_mb=2048, processes=16)
    configure(config, timeout=7, startup="x = 1", memory_mb=2048, processes=16)  # idempotent
    steps = [p.rsplit(".", 1)[-1] for p in config.Autograde.autograde_preprocessors]
    assert steps == [
        "SandboxedExecute",
        "IgnorePattern",
        "ClearMetadataPreprocessor",
        "LimitOutput",
        "LimitOutputSize",
        "SaveAutoGrades",
        "AssignLatePenalties",
        "CheckCellMetadata",
    ]
    execute = sandbox.SandboxedExecute(config=config)
    assert execute.timeout == 7 and execute.startup == "x = 1"
    assert execute.kernel_manager_class is sandbox.SandboxKernelManager
    km = sandbox.SandboxKernelManager(kernel_name="python3", config=config)
    km._launch_args = {}
    cmd = km.format_kernel_cmd()
    cut = cmd.index("--")
    assert cmd[1:3] == ["-m", "autograder.sandbox"]
    assert cmd[cmd.index("--memory-mb") + 1] == "2048"
    assert cmd[cmd.index("--processes") + 1] == "16"
    assert "ipykernel_launcher" in cmd[cut + 1 :]
    sandbox._sandbox_uids()  # forget the uid file it registered
    with pytest.raises(TypeError, match="unknown sandbox limits"):
        configure(config, memory=1)


# -- real kernels --------------------------------------------------------------------------------


def run_notebook(*sources: str, timeout: int = 1, startup: str = "") -> tuple:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    config = Config()
    configure(config, timeout=timeout, startup=startup)
    config.SandboxedExecute.stuck_seconds = 2
    execute = sandbox.SandboxedExecute(config=config)
    start = time.monotonic()
    execute.preprocess(nb, {"metadata": {"path": "/tmp" if LINUX else "."}})
    return nb, time.monotonic() - start


def outputs(cell) -> list[tuple[str, str]]:
    return [(o.output_type, o.get("ename") or o.get("text", "")) for o in cell.outputs]


@linux
def test_a_dying_kernel_fails_its_cell_and_every_later_one() -> None:
    nb, _ = run_notebook(
        "print(STARTED)",
        "import os\nos._exit(3)",
        "print('never')",
        "x = 1",
        startup="STARTED = 'startup ran'",
    )
    assert outputs(nb.cells[0]) == [("stream", "startup ran\n")]
    assert outputs(nb.cells[1]) == [("error", "KernelDied")]
    assert "exited with code 3" in nb.cells[1].outputs[0].evalue
    for cell in nb.cells[2:]:
        assert outputs(cell) == [("error", "NotRun")]
        assert "(cell 2)" in cell.outputs[0].evalue
    (crash,) = findings_from_outputs(nb)
    assert crash.kind == "crash" and "2 later cells did not run" in crash.message


@linux
def test_a_kernel_stuck_after_its_timeout_is_stopped_once() -> None:
    nb, seconds = run_notebook(
        "while True: pass",  # interrupted at the timeout: that cell fails, the kernel lives
        "print('next')",
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True: pass",
        "print('never')",
        "print('never either')",
    )
    assert outputs(nb.cells[0]) == [("error", "KeyboardInterrupt"), ("error", "CellTimeoutError")]
    assert outputs(nb.cells[1]) == [("stream", "next\n")]
    assert outputs(nb.cells[2])[-1] == ("error", "CellTimeoutError")
    assert outputs(nb.cells[3]) == outputs(nb.cells[4]) == [("error", "NotRun")]
    assert seconds < 1 + 1 + 2 + 8  # two timeouts and one wait for the stuck kernel, not three
    kinds = [f.kind for f in findings_from_outputs(nb)]
    assert kinds.count("timeout") == 3  # two cells, and the stop
