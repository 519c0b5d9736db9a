"""The process an ad-hoc query runs in, so that its time and memory limits cannot be slipped.

DuckDB checks `max_execution_time` and `memory_limit` between operators, not inside one scalar
function: a single levenshtein() call over long strings ran 37 s under a 30 s limit, and one
repeat() reached 1.7 GB under 200 MB. So each query runs in a worker: a separate Python process
(started with `python -m etl.warehouse.worker`, never forked from a threaded server) holding
the same
locked DuckDB instance as etl/warehouse/sandbox.py, over the warehouse attached READ_ONLY, with the
reader's own views. Its data segment is capped (RLIMIT_DATA: every private writable mapping,
which is where malloc and DuckDB put memory) at what it used when ready plus the memory limit,
and the caller kills it when the time limit passes. DuckDB's own limits stay set as well.

The caller talks to it over its standard input and output: one JSON line per request; back come
frames (a 4-byte length, a 1-byte kind, the payload): the Arrow schema, record batches, then done
or an error sentence. Nothing from the worker is unpickled, so a worker cannot run code in the
caller.
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa

from etl import ROOT

#: Seconds a new worker may take to open the warehouse before the query is refused.
START_SECONDS = 60.0
#: Seconds past the time limit before the worker is killed: DuckDB's own stop comes first.
GRACE_SECONDS = 0.25
#: Room above the memory limit for the Arrow batches being sent back.
HEADROOM_BYTES = 64 << 20
#: Workers one sandbox runs at once: one per concurrent query.
MAX_WORKERS = 4

_HEADER = struct.Struct(">IB")
SCHEMA, BATCH, DONE, ERROR, READY = b"S", b"B", b"D", b"E", b"R"


class Stopped(Exception):
    """The worker was stopped: at the time limit ("time"), the memory limit ("memory"), or
    before it started ("start"); message is the worker's own sentence, if it sent one."""

    def __init__(self, limit: str, message: str = ""):
        super().__init__(limit)
        self.limit = limit
        self.message = message


class Failed(Exception):
    """The worker answered with an error sentence (a refusal, a DuckDB error), and DuckDB's
    own text where DuckDB raised it."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.detail = detail


class Worker:
    """One worker process, used by one query at a time."""

    def __init__(self) -> None:
        package_root = str(ROOT)
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, path]))}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "etl.warehouse.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # a Ctrl+C in the terminal reaches the caller only
        )
        self._ready = False
        self.clean = True  # no answer half read: it may take the next query

    def configure(self, setup: dict) -> None:
        """Tell the worker which warehouse, views, reader and limits it serves."""
        self._send(setup)

    def wait_ready(self) -> None:
        """Wait until the worker has opened the warehouse (once)."""
        if self._ready:
            return
        kind, payload = self._frame(time.monotonic() + START_SECONDS, "start")
        if kind == ERROR:
            raise Failed(payload.decode())
        if kind != READY:
            raise Failed("the SQL worker did not start")
        self._ready = True

    def stream(self, request: dict, timeout: float) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        """The schema and batches of one query, killed if it runs past timeout seconds."""
        self.wait_ready()
        deadline = time.monotonic() + timeout + GRACE_SECONDS
        self.clean = False
        try:
            self._send(request)
        except OSError:  # it died while idle
            self.kill()
            raise Stopped("start") from None
        kind, payload = self._frame(deadline, "time")
        if kind == ERROR:
            self._fail(payload, whole_answer=True)
        schema = pa.ipc.read_schema(pa.py_buffer(payload))
        return schema, self._batches(schema, deadline)

    def _batches(self, schema: pa.Schema, deadline: float) -> Iterator[pa.RecordBatch]:
        while True:
            kind, payload = self._frame(deadline, "time")
            if kind == DONE:
                self.clean = True
                return
            if kind == ERROR:
                self._fail(payload, whole_answer=False)
            yield pa.ipc.read_record_batch(pa.py_buffer(payload), schema)

    def _fail(self, payload: bytes, whole_answer: bool) -> None:
        """Raise the worker's error; a refusal before any data leaves it ready for more."""
        answer = json.loads(payload)
        if answer.get("stopped") or not whole_answer:
            self.kill()
        else:
            self.clean = True
        if answer.get("stopped"):
            raise Stopped(answer["stopped"], answer["message"])
        raise Failed(answer["message"], answer.get("detail") or "")

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.poll() is None

    def kill(self) -> None:
        """End the process now, whatever it is doing."""
        if self.alive():
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe:
                pipe.close()

    def _send(self, message: dict) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()

    def _frame(self, deadline: float, limit: str) -> tuple[bytes, bytes]:
        header = self._read(_HEADER.size, deadline, limit)
        size, kind = _HEADER.unpack(header)
        return bytes([kind]), self._read(size, deadline, limit)

    def _read(self, size: int, deadline: float, limit: str) -> bytes:
        assert self.process.stdout is not None
        fd, chunks, left = self.process.stdout.fileno(), [], size
        while left:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                self.kill()
                raise Stopped(limit)
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:  # the process died: the memory cap is what kills a worker
                self.kill()
                raise Stopped("memory" if self._ready else "start")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)


class Pool:
    """Workers for one sandbox: one per concurrent query, plus spare ones started ahead.

    A shared sandbox (the dashboard's) keeps a spare so that a second session's query does
    not wait for a worker to start while the first one's runs or is being stopped.
    """

    def __init__(self, spare: int = 0) -> None:
        self.setup: dict = {}
        self.spare = spare
        # They import while the caller opens its own instance.
        self._idle: list[Worker] = [Worker() for _ in range(1 + spare)]
        self._busy = 0
        self._lock = threading.Condition()
        self._closed = False

    def configure(self, setup: dict) -> None:
        """Set what every worker serves, and tell the one already started."""
        self.setup = setup
        for worker in self._idle:
            worker.configure(setup)

    def run(self, use: Callable[[Worker], object]) -> object:
        """use(worker) with a worker of its own; a worker that was stopped is replaced."""
        worker = self._take()
        try:
            return use(worker)
        finally:
            self._give(worker)

    def _take(self) -> Worker:
        with self._lock:
            while self._busy >= MAX_WORKERS:
                self._lock.wait()
            self._busy += 1
            worker = None
            while self._idle and worker is None:
                worker = self._idle.pop(0)
                worker = worker if worker.alive() else None
            if len(self._idle) < self.spare and self._busy + len(self._idle) < MAX_WORKERS:
                self._idle.append(self._start())
        return worker or self._start()

    def _start(self) -> Worker:
        worker = Worker()
        worker.configure(self.setup)
        return worker

    def _give(self, worker: Worker) -> None:
        with self._lock:
            self._busy -= 1
            keep = (
                worker.clean
                and worker.alive()
                and not self._closed
                and len(self._idle) < 1 + self.spare
            )
            if keep:
                self._idle.append(worker)
            elif not self._closed and not self._idle:  # a stopped worker's successor starts now
                self._idle.append(self._start())
            self._lock.notify()
        if not keep:
            worker.kill()

    def close(self) -> None:
        """Kill every idle worker; busy ones are killed when their query hands them back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()


def _write(kind: bytes, payload: bytes) -> None:
    out = sys.stdout.buffer
    out.write(_HEADER.pack(len(payload), kind[0]) + payload)
    out.flush()


def _data_segment() -> int:
    """Bytes of private writable memory this process has mapped now (VmData)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    return 0


def _cap_memory(limit_bytes: int) -> None:
    """Let the process map at most what it holds now plus limit_bytes and the headroom."""
    cap = _data_segment() + limit_bytes + HEADROOM_BYTES
    resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))


def serve() -> None:
    """The worker's main loop: open the warehouse as told, then answer requests until EOF."""
    from etl.warehouse.access import Visibility
    from etl.warehouse.sandbox import Limits, Sandbox, answer, memory_bytes

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    setup = json.loads(sys.stdin.buffer.readline())
    limits = Limits(**setup["limits"])
    departments = setup["visibility"][0]
    visibility = Visibility(
        tuple(departments) if departments is not None else None, setup["visibility"][1]
    )
    try:
        box = Sandbox(Path(setup["db"]), limits, visibility, names=setup["views"])
        box.run("SELECT 1")  # DuckDB's threads and buffers exist before the cap is measured
    except Exception as error:  # noqa: BLE001 - told to the caller, who explains it
        _write(ERROR, str(error).encode())
        return
    _cap_memory(memory_bytes(limits.memory_limit))
    _write(READY, b"")
    for line in sys.stdin.buffer:
        request = json.loads(line)
        for kind, payload in answer(box, request):
            _write(kind, payload)


if __name__ == "__main__":
    serve()
