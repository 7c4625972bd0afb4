#!/usr/bin/env python3
"""Project rules for template.yaml that cfn-lint and sam validate do not check.

1. visibility: a queue feeding a function has VisibilityTimeout >= 6 x the
   function's Timeout + its MaximumBatchingWindowInSeconds.
2. partial-batch: every SQS event reports partial batch failures
   (FunctionResponseTypes includes ReportBatchItemFailures).
3. dlq: every SQS queue has a RedrivePolicy to a dead-letter queue, and every
   dead-letter queue has a CloudWatch alarm on it.
4. secrets: no environment variable carries a secret (a NoEcho parameter, or a
   name ending in TOKEN, SECRET, PASSWORD or API_KEY); pass the name of an SSM
   parameter instead (…_PARAMETER).
5. iam-wildcards: no Allow statement grants the action or resource "*".

Usage: template_rules.py TEMPLATE...   (exit 1 and one line per violation)
"""
import re
import sys

from samtranslator.yaml_helper import yaml_parse

SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|API_KEY)$")


def ref_name(value):
    """The logical id a !Ref / !GetAtt points at, else None."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            att = value["Fn::GetAtt"]
            return att[0] if isinstance(att, list) else str(att).split(".")[0]
    return None


def check(template):
    problems = []
    resources = template.get("Resources", {})
    params = template.get("Parameters", {})
    globals_fn = template.get("Globals", {}).get("Function", {})
    queues = {k: r for k, r in resources.items() if r.get("Type") == "AWS::SQS::Queue"}
    dlqs = {ref_name(q.get("Properties", {}).get("RedrivePolicy", {}).get("deadLetterTargetArn")) for q in queues.values()}
    dlqs.discard(None)
    alarmed = set()
    for r in resources.values():
        if r.get("Type") == "AWS::CloudWatch::Alarm":
            for d in r.get("Properties", {}).get("Dimensions", []):
                if d.get("Name") == "QueueName":
                    alarmed.add(ref_name(d.get("Value")))
    for name in queues:
        if name in dlqs:
            if name not in alarmed:
                problems.append(f"dlq: dead-letter queue {name} has no CloudWatch alarm")
        elif "RedrivePolicy" not in queues[name].get("Properties", {}):
            problems.append(f"dlq: queue {name} has no RedrivePolicy to a dead-letter queue")

    for fname, fn in resources.items():
        if fn.get("Type") != "AWS::Serverless::Function":
            continue
        props = fn.get("Properties", {})
        timeout = props.get("Timeout", globals_fn.get("Timeout", 3))
        env = dict(globals_fn.get("Environment", {}).get("Variables", {}))
        env.update(props.get("Environment", {}).get("Variables", {}))
        for var, value in env.items():
            noecho = ref_name(value) in params and params[ref_name(value)].get("NoEcho")
            if noecho or (SECRET_NAME.search(var) and not var.endswith("_PARAMETER")):
                problems.append(f"secrets: {fname} environment variable {var} carries a secret; pass an SSM parameter name")
        for ename, event in props.get("Events", {}).items():
            if event.get("Type") != "SQS":
                continue
            eprops = event.get("Properties", {})
            if "ReportBatchItemFailures" not in eprops.get("FunctionResponseTypes", []):
                problems.append(f"partial-batch: {fname} event {ename} does not report batch item failures")
            queue = ref_name(eprops.get("Queue"))
            if queue in queues:
                visibility = queues[queue].get("Properties", {}).get("VisibilityTimeout", 30)
                needed = 6 * timeout + eprops.get("MaximumBatchingWindowInSeconds", 0)
                if visibility < needed:
                    problems.append(f"visibility: queue {queue} VisibilityTimeout {visibility} < {needed} (6 x {fname} timeout + batching window)")
        for policy in props.get("Policies", []):
            if isinstance(policy, dict):
                for st in policy.get("Statement", []):
                    if st.get("Effect") != "Allow":
                        continue
                    actions = st.get("Action", [])
                    resources_ = st.get("Resource", [])
                    actions = actions if isinstance(actions, list) else [actions]
                    resources_ = resources_ if isinstance(resources_, list) else [resources_]
                    if any(a == "*" or (isinstance(a, str) and a.endswith(":*")) for a in actions) or "*" in resources_:
                        problems.append(f"iam-wildcards: {fname} statement {st.get('Sid', '?')} grants a wildcard")
    return problems


def main(paths):
    failed = False
    for path in paths:
        with open(path, encoding="utf-8") as f:
            problems = check(yaml_parse(f.read()))
        for p in problems:
            print(f"{path}: {p}")
        failed = failed or bool(problems)
    if not failed:
        print(f"template rules: {len(paths)} template(s) pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
