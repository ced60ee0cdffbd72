#!/usr/bin/env python3
"""The main job: an agent's data-analysis task, run in a sandbox.

What an agent framework does with llmcore-sandbox, end to end: pick the
image for the task, start a sandbox session, hand the agent the tools
(`execute_python`, `save_file`, `load_file`, ...) and let it work on a file,
then collect the result and destroy the sandbox. The "agent" here is a fixed
script of tool calls, so the example runs without a language model.

    python3 examples/agent_task.py        (as root, after `make` and
                                           `make -C container_images python`)
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

from llmcore_sandbox import Sandbox  # noqa: E402

SALES = "region,units,price\nnorth,12,2.5\nsouth,7,3.0\nnorth,5,2.5\neast,9,4.0\nsouth,3,3.0\n"

ANALYSIS = """
import csv, json
totals = {}
with open("sales.csv") as f:
    for row in csv.DictReader(f):
        totals[row["region"]] = totals.get(row["region"], 0) + int(row["units"]) * float(row["price"])
best = max(totals, key=totals.get)
with open("report.json", "w") as f:
    json.dump({"revenue_by_region": totals, "best_region": best}, f, sort_keys=True)
print("best region:", best, "revenue:", totals[best])
"""


def main():
    with Sandbox.create(task="data_processing", timeout=60, label="agent-task example") as sb:
        sel = sb.selection
        print(f"sandbox {sb.id}: {sel.image} ({sel.reason}, {sel.access_mode.value})")
        tools = sb.tools()
        steps = [
            ("save_file", {"path": "sales.csv", "content": SALES, "description": "input data"}),
            ("execute_python", {"code": ANALYSIS, "timeout": 30}),
            ("load_file", {"path": "report.json"}),
            # data_processing did not ask for network: this must fail.
            ("execute_shell", {"command": "curl -sS -m 5 http://deb.debian.org/ >/dev/null"}),
            ("get_sandbox_info", {}),
        ]
        results = {}
        for name, args in steps:
            result = results[name] = tools.call(name, **args)
            print(f"--- {name}{' (error)' if result.is_error else ''}")
            print(result.text)
        report = json.loads(sb.read_text("report.json"))
    print("--- report collected from the sandbox (now destroyed):")
    print(json.dumps(report, indent=2, sort_keys=True))
    if report["best_region"] != "north" or report["revenue_by_region"]["east"] != 36.0:
        sys.exit("unexpected analysis result")
    if not results["execute_shell"].is_error:
        sys.exit("the restricted sandbox reached the network")


if __name__ == "__main__":
    main()
