"""procmem.py: a process's resident memory from /proc, for the bench rows
that report rss_growth_mb (image_flood.py, init_mem.py)."""


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
