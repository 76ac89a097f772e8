"""procmem.py: a process's resident memory from /proc, for the bench rows
that report rss_growth_mb (image_flood.py, init_mem.py, the export rows of
bench.py)."""
import time


def kib(pid, field):
    """A "Field:  N kB" line of /proc/PID/status (VmRSS, VmHWM), in KiB;
    None when the process is gone or has no such line."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak(pid):
    """Reset VmHWM to the current VmRSS (writing 5 to clear_refs); False
    when that is not allowed."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def watch(pid, poll, say_every=10, sample=0.02, every=0.5):
    """Watch the resident memory of PID while a job runs: VmRSS sampled
    every SAMPLE seconds, VmHWM reset first (where allowed) and read at the
    end.  POLL(rss_kib, peak_kib, say) is called every EVERY seconds (SAY
    true at most every SAY_EVERY seconds, for a progress line) and returns
    None to go on or the result to stop with.  Returns (that result, before
    in KiB, peak in KiB, whether the peak includes VmHWM); the result is
    {"state": "error", "error": "labeld exited"} when PID went away, and
    before is None when it was not running at all."""
    before = kib(pid, "VmRSS")
    if before is None:
        return {"state": "error", "error": "labeld is not running"}, None, None, False
    hwm_ok = reset_peak(pid)
    peak = before
    next_poll = next_say = time.monotonic()
    while True:
        now = time.monotonic()
        rss = kib(pid, "VmRSS")
        if rss is None:
            return {"state": "error", "error": "labeld exited"}, before, peak, False
        peak = max(peak, rss)
        if now >= next_poll:
            next_poll = now + every
            say = now >= next_say
            if say:
                next_say = now + say_every
            result = poll(rss, peak, say)
            if result is not None:
                break
        time.sleep(sample)
    if hwm_ok:
        hwm = kib(pid, "VmHWM")
        if hwm is not None:
            peak = max(peak, hwm)
    return result, before, peak, hwm_ok
