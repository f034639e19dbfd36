"""LLVM runs in compile worker processes (willump_mlir.runtime.compile_worker): results,
errors, dead workers, forks and threads, and the in-process switch."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from test_jit import call_dot, dot_kernel, unique

from willump_mlir.runtime import jit


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("WILLUMP_MLIR_CACHE_DIR", str(cache))
    monkeypatch.delenv("WILLUMP_MLIR_COMPILE_WORKERS", raising=False)
    return cache


def idle_worker_pids() -> set[int]:
    return {worker.process.pid for worker in jit._idle_workers}


def test_a_worker_compiles_and_is_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    # an idle worker left by earlier tests may be at its last compile: not retired here
    monkeypatch.setattr(jit, "WORKER_COMPILES", 10**9)
    _, ir = dot_kernel()
    lib = jit.compile_llvm_ir(ir, unique("key"))
    assert call_dot(lib, np.arange(4.0)) == 2.0 * 6 + 4
    workers = idle_worker_pids()
    assert workers and os.getpid() not in workers
    _, ir = dot_kernel(1.0)
    assert call_dot(jit.compile_llvm_ir(ir, unique("key")), np.arange(4.0)) == 17.0
    assert idle_worker_pids() == workers


def test_llvm_errors_come_back_as_runtime_errors() -> None:
    with pytest.raises(RuntimeError, match="LLVM cannot compile the module"):
        jit.compile_llvm_ir("define i32 @f( {", unique("key"))
    _, ir = dot_kernel()  # the worker still serves
    assert call_dot(jit.compile_llvm_ir(ir, unique("key")), np.arange(2.0)) == 4.0


def test_a_worker_that_died_idle_is_replaced() -> None:
    _, ir = dot_kernel()
    jit.compile_llvm_ir(ir, unique("key"))
    for pid in idle_worker_pids():
        os.kill(pid, signal.SIGKILL)
    for worker in jit._idle_workers:
        worker.process.wait()
    _, ir = dot_kernel(2.0)
    assert call_dot(jit.compile_llvm_ir(ir, unique("key")), np.arange(2.0)) == 6.0


def test_a_worker_dying_mid_compile_is_an_error_not_a_crash() -> None:
    worker = jit._Worker()
    os.kill(worker.process.pid, signal.SIGKILL)
    _, ir = dot_kernel()
    with pytest.raises(RuntimeError, match="compile worker .* exited with code -9"):
        worker.optimise(ir)


def test_threads_compile_in_parallel_workers() -> None:
    results: list[float] = []
    errors: list[BaseException] = []
    kernels = [dot_kernel(float(i)) for i in range(8)]

    def compile_one(i: int) -> None:
        try:
            lib = jit.compile_llvm_ir(kernels[i][1], unique("key"))
            results.append(call_dot(lib, np.arange(3.0)) - i)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=compile_one, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results == [2.0 * 3 + 3] * 8
    assert len(jit._idle_workers) <= (os.cpu_count() or 1)


def test_in_process_switch_runs_no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WILLUMP_MLIR_COMPILE_WORKERS", "0")
    jit._close_workers()
    _, ir = dot_kernel()
    assert call_dot(jit.compile_llvm_ir(ir, unique("key")), np.arange(2.0)) == 4.0
    assert not jit._idle_workers


def test_a_forked_child_starts_its_own_worker() -> None:
    _, ir = dot_kernel()
    jit.compile_llvm_ir(ir, unique("key"))  # the parent has an idle worker
    _, child_ir = dot_kernel(5.0)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit code
        try:
            ok = (
                not jit._idle_workers
                and call_dot(jit.compile_llvm_ir(child_ir, unique("key")), np.arange(2.0)) == 9.0
            )
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_process_without_a_python_executable_compiles_in_process() -> None:
    script = textwrap.dedent(
        """
        import sys, warnings
        import numpy as np
        from test_jit import call_dot, dot_kernel, unique
        from willump_mlir.runtime import jit
        sys.executable = "/nonexistent/python"
        _, ir = dot_kernel()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib = jit.compile_llvm_ir(ir, unique("key"))
            jit.compile_llvm_ir(dot_kernel()[1], unique("key"))
        assert call_dot(lib, np.arange(2.0)) == 4.0
        assert [w.category.__name__ for w in caught] == ["CompileWarning"], caught
        """
    )
    test_dir = Path(__file__).parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join((str(test_dir), str(test_dir.parents[1]))))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
