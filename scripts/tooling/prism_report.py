"""Reads the logs of the Prism proxies (one per document; the scenario sends one request at a
time) and prints each response violation with the request it belongs to, then a count.

  python prism_report.py DOC=LOG ...
Exits 1 when there is any violation.
"""
import re
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*m")
RECEIVED = re.compile(r"\[HTTP SERVER\] (\w+) (\S+) .*Request received")
VIOLATION = re.compile(r"Violation: (.*)")


def main():
    total = 0
    for arg in sys.argv[1:]:
        doc, path = arg.split("=", 1)
        last = "?"
        with open(path, errors="replace") as fh:
            for line in fh:
                line = ANSI.sub("", line).rstrip()
                m = RECEIVED.search(line)
                if m:
                    last = f"{m.group(1).upper()} {m.group(2)}"
                    continue
                if "Request terminated with error" in line and "VIOLATIONS" in line:
                    # --errors: a violation marked as an error replaced the answer with Prism's 500.
                    total += 1
                    print(f"VIOLATION [prism {doc}] {last}: the answer broke the document (Prism answered its 500)")
                    continue
                m = VIOLATION.search(line)
                if m and m.group(1).startswith("response"):
                    total += 1
                    print(f"VIOLATION [prism {doc}] {last}: {m.group(1)[:400]}")
                elif m:
                    # A request violation means the scenario sent something its document forbids.
                    total += 1
                    print(f"VIOLATION [prism {doc}] {last} (request): {m.group(1)[:400]}")
    print(f"SUMMARY [prism] violations={total}")
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
