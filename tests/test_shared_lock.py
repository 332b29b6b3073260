"""A lock that holds on a root shared by many nodes: an O_EXCL owner file with a heartbeat, taken
over when its holder is gone, and correct even where flock is not honoured (NFS, Lustre)."""
import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from filelock import Timeout

from histodata import locking
from histodata.locking import SharedLock


class NoKernelLock:
    """flock as a file system that does not honour it across nodes: always granted."""

    def acquire(self, timeout=-1):
        pass

    def release(self):
        pass


def without_flock(lock: SharedLock) -> SharedLock:
    lock._kernel = NoKernelLock()
    return lock


def write_owner(path, host, pid, age=0.0):
    owner = f"{path}.owner"
    with open(owner, "w") as handle:
        json.dump({"host": host, "pid": pid, "token": "theirs", "since": time.time() - age}, handle)
    os.utime(owner, (time.time() - age, time.time() - age))
    return owner


def test_the_owner_file_names_the_holder_and_goes_on_release(tmp_path):
    lock = SharedLock(tmp_path / ".lock")
    with lock:
        owner = json.loads((tmp_path / ".lock.owner").read_text())
        assert owner["host"] == socket.gethostname() and owner["pid"] == os.getpid()
    assert not (tmp_path / ".lock.owner").exists()


def test_without_flock_a_second_holder_still_waits(tmp_path):
    first = without_flock(SharedLock(tmp_path / ".lock"))
    second = without_flock(SharedLock(tmp_path / ".lock"))
    first.acquire()
    with pytest.raises(Timeout):
        second.acquire(timeout=0.3)
    first.release()
    second.acquire(timeout=1)
    second.release()


def test_a_dead_process_of_this_host_loses_its_lock_at_once(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          check=True, text=True).stdout.strip()
    write_owner(tmp_path / ".lock", socket.gethostname(), int(dead))
    lock = SharedLock(tmp_path / ".lock")
    lock.acquire(timeout=0.5)
    assert json.loads((tmp_path / ".lock.owner").read_text())["pid"] == os.getpid()
    lock.release()
    assert [p.name for p in tmp_path.iterdir() if "stale" in p.name] == []


def test_another_node_is_waited_for_until_its_heartbeat_stops(tmp_path):
    write_owner(tmp_path / ".lock", "node-elsewhere", 4242)
    with pytest.raises(Timeout):
        SharedLock(tmp_path / ".lock", stale=30).acquire(timeout=0.3)     # a live heartbeat: wait
    write_owner(tmp_path / ".lock", "node-elsewhere", 4242, age=31)
    lock = SharedLock(tmp_path / ".lock", stale=30)
    lock.acquire(timeout=0.5)                                            # no heartbeat for 31 s
    assert json.loads((tmp_path / ".lock.owner").read_text())["host"] == socket.gethostname()
    lock.release()


def test_the_heartbeat_keeps_a_long_held_lock(tmp_path, monkeypatch):
    monkeypatch.setattr(locking, "HEARTBEAT_SECONDS", 0.1)
    locking.HEARTBEAT._thread = None          # a fresh heartbeat thread with the short period
    holder = without_flock(SharedLock(tmp_path / ".lock", stale=0.5))
    holder.acquire()
    try:
        time.sleep(1.0)                        # twice the staleness: only the heartbeat keeps it
        other = without_flock(SharedLock(tmp_path / ".lock", stale=0.5))
        with pytest.raises(Timeout):
            other.acquire(timeout=0.5)
    finally:
        holder.release()


def test_many_contenders_without_flock_hold_it_one_at_a_time(tmp_path):
    inside, most, errors = [0], [0], []
    guard = threading.Lock()

    def work():
        lock = without_flock(SharedLock(tmp_path / ".lock"))
        for _ in range(5):
            lock.acquire()
            with guard:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.005)
            with guard:
                inside[0] -= 1
            lock.release()

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and most[0] == 1
