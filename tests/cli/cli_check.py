"""What the CLI tests share: named checks that print ok/FAIL, the one-line
error rule for bad input, and the exit status."""
import sys

_passed = []
_failed = []


def check(name, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + name + (f": {detail}" if not condition and detail else ""))
    (_passed if condition else _failed).append(name)


def expect_error(name, result, *fragments):
    """A user mistake: exit status 1 and one stderr line 'finch: error: ...' holding every fragment."""
    lines = result.stderr.strip().splitlines()
    ok = (result.returncode == 1 and len(lines) == 1 and lines[0].startswith("finch: error: ")
          and all(f in lines[0] for f in fragments))
    check(name, ok, f"rc={result.returncode} stderr={result.stderr.strip()!r}")


def finish(what):
    print(f"{what}: {len(_passed)} passed, {len(_failed)} failed")
    sys.exit(1 if _failed else 0)


def skip_rest(what, why):
    """Ends a test whose remaining checks cannot run in this build: CTest's skip (exit 77) when
    everything so far passed, else the failure."""
    print(f"SKIP the rest: {why}")
    if _failed:
        finish(what)
    print(f"{what}: {len(_passed)} passed, the rest skipped")
    sys.exit(77)
