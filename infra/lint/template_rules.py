#!/usr/bin/env python3
"""Project rules for template.yaml that cfn-lint and sam validate do not check.

1. visibility: a queue feeding a function has VisibilityTimeout >= 6 x the
   function's Timeout + its MaximumBatchingWindowInSeconds.
2. partial-batch: every SQS event reports partial batch failures
   (FunctionResponseTypes includes ReportBatchItemFailures).
3. dlq: every SQS queue has a RedrivePolicy to a dead-letter queue, or is
   itself a dead-letter queue (the deadLetterTargetArn of a RedrivePolicy, or
   the DestinationConfig.OnFailure.Destination of a function event or of its
   EventInvokeConfig for asynchronous invocations), and every
   dead-letter queue has a CloudWatch alarm on it.
4. secrets: no environment variable carries a secret (a NoEcho parameter, or a
   name ending in TOKEN, SECRET, PASSWORD or API_KEY); pass the name of an SSM
   parameter instead (…_PARAMETER).
5. iam-wildcards: no Allow statement grants the action or resource "*".
6. stream-partial-batch: every DynamoDB and Kinesis stream event reports
   partial batch failures (ReportBatchItemFailures), bisects a failing batch
   (BisectBatchOnFunctionError: true), retries a finite number of times
   (MaximumRetryAttempts set, not -1) and has an OnFailure destination, so one
   bad record neither blocks its shard nor is lost.
7. log-retention: every function logs to a log group of the template that has
   RetentionInDays: its LoggingConfig.LogGroup (or the Globals') is `!Ref` of
   an AWS::Logs::LogGroup, or a log group is named `/aws/lambda/${Function}`.
   When both the function's FunctionName and the group's LogGroupName are
   given, the group is named /aws/lambda/<FunctionName>, where Lambda's own
   tools look for it.
8. dlq-alarm: the alarms on a dead-letter queue (of a RedrivePolicy or an
   OnFailure destination) include one on its depth
   (ApproximateNumberOfMessagesVisible) with AlarmActions, so the first
   failed message reaches someone. (A dead-letter queue with no alarm at all
   is rule 3's.)
9. alarm-actions: every CloudWatch alarm has AlarmActions (and does not
   disable them with ActionsEnabled: false): an alarm that tells nobody is
   only a graph.

Usage: template_rules.py TEMPLATE...   (prints nothing and exits 0 when all pass;
exit 1 and one line per violation otherwise)
"""
import re
import sys

from samtranslator.yaml_helper import yaml_parse

SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|API_KEY)$")
STREAM_EVENT_TYPES = ("DynamoDB", "Kinesis")
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
DLQ_DEPTH_METRIC = "ApproximateNumberOfMessagesVisible"


def ref_name(value):
    """The logical id a !Ref / !GetAtt points at, else None."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            att = value["Fn::GetAtt"]
            return att[0] if isinstance(att, list) else str(att).split(".")[0]
    return None


def on_failure_destination(event_props):
    """The DestinationConfig.OnFailure.Destination of a function event, else None."""
    return ((event_props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")


def function_events(resources):
    """(function name, event name, event) of every event of every serverless function."""
    for fname, fn in resources.items():
        if fn.get("Type") == "AWS::Serverless::Function":
            for ename, event in (fn.get("Properties", {}).get("Events") or {}).items():
                yield fname, ename, event


def sub_text(value):
    """The text of a plain string or of a `!Sub "text"`, else None (another intrinsic)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return value["Fn::Sub"]
    return None


def has_actions(alarm_props):
    actions = alarm_props.get("AlarmActions")
    enabled = alarm_props.get("ActionsEnabled", True)
    return bool(actions) and enabled not in (False, "false", "False")


def check_log_groups(resources, globals_fn):
    problems = []
    log_groups = {k: r for k, r in resources.items() if r.get("Type") == "AWS::Logs::LogGroup"}
    global_group = ref_name((globals_fn.get("LoggingConfig") or {}).get("LogGroup"))
    for fname, fn in resources.items():
        if fn.get("Type") not in FUNCTION_TYPES:
            continue
        props = fn.get("Properties", {})
        where = f"log-retention: {fname}"
        group = ref_name((props.get("LoggingConfig") or {}).get("LogGroup"))
        if group is None and fn.get("Type") == "AWS::Serverless::Function":
            group = global_group
        if group is None:
            # The other way round: a group named after the function (`/aws/lambda/${Fn}`).
            named = [k for k, g in log_groups.items() if sub_text(g.get("Properties", {}).get("LogGroupName")) == f"/aws/lambda/${{{fname}}}"]
            group = named[0] if named else None
        if group is None:
            problems.append(f"{where} has no log group of its own (LoggingConfig.LogGroup: !Ref a AWS::Logs::LogGroup with RetentionInDays)")
            continue
        if group not in log_groups:
            problems.append(f"{where} logs to {group}, which is not an AWS::Logs::LogGroup of the template")
            continue
        group_props = log_groups[group].get("Properties", {})
        if "RetentionInDays" not in group_props:
            problems.append(f"{where} logs to {group}, which has no RetentionInDays (its logs would be kept forever)")
        function_name, group_name = sub_text(props.get("FunctionName")), sub_text(group_props.get("LogGroupName"))
        if function_name is not None and group_name is not None and group_name != f"/aws/lambda/{function_name}":
            problems.append(f"{where} logs to {group} named {group_name!r}, not '/aws/lambda/{function_name}'")
    return problems


def check_alarms(resources, dlqs):
    problems = []
    alarms = {k: r.get("Properties", {}) for k, r in resources.items() if r.get("Type") == "AWS::CloudWatch::Alarm"}
    for name, props in alarms.items():
        if not props.get("AlarmActions"):
            problems.append(f"alarm-actions: alarm {name} has no AlarmActions (nobody is told when it fires)")
        elif not has_actions(props):
            problems.append(f"alarm-actions: alarm {name} disables its actions (ActionsEnabled: false)")
    for dlq in sorted(dlqs):
        on_it = [
            props
            for props in alarms.values()
            if any(d.get("Name") == "QueueName" and ref_name(d.get("Value")) == dlq for d in props.get("Dimensions", []))
        ]
        if on_it and not any(p.get("MetricName") == DLQ_DEPTH_METRIC and has_actions(p) for p in on_it):
            problems.append(f"dlq-alarm: dead-letter queue {dlq} has no alarm with AlarmActions on its depth ({DLQ_DEPTH_METRIC})")
    return problems


def check_stream_event(fname, ename, eprops):
    where = f"stream-partial-batch: {fname} event {ename}"
    problems = []
    if "ReportBatchItemFailures" not in (eprops.get("FunctionResponseTypes") or []):
        problems.append(f"{where} does not report batch item failures")
    if eprops.get("BisectBatchOnFunctionError") is not True:
        problems.append(f"{where} does not bisect a failing batch (BisectBatchOnFunctionError: true)")
    retries = eprops.get("MaximumRetryAttempts")
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        problems.append(f"{where} has no finite MaximumRetryAttempts (a record would be retried until it expires)")
    if on_failure_destination(eprops) is None:
        problems.append(f"{where} has no DestinationConfig.OnFailure destination for the records it gives up on")
    return problems


def check(template):
    problems = []
    resources = template.get("Resources", {})
    params = template.get("Parameters", {})
    globals_fn = template.get("Globals", {}).get("Function", {})
    queues = {k: r for k, r in resources.items() if r.get("Type") == "AWS::SQS::Queue"}
    dlqs = {ref_name(q.get("Properties", {}).get("RedrivePolicy", {}).get("deadLetterTargetArn")) for q in queues.values()}
    # A queue that receives what a function's event gave up on is a dead-letter queue too.
    dlqs |= {
        ref_name(on_failure_destination(event.get("Properties") or {}))
        for _, _, event in function_events(resources)
    }
    # So is the on-failure destination of a function's asynchronous invocations.
    dlqs |= {
        ref_name(
            ((r.get("Properties") or {}).get("EventInvokeConfig") or {})
            .get("DestinationConfig", {})
            .get("OnFailure", {})
            .get("Destination")
        )
        for r in resources.values()
        if r.get("Type") == "AWS::Serverless::Function"
    }
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
    problems.extend(check_alarms(resources, dlqs & set(queues)))
    problems.extend(check_log_groups(resources, globals_fn))

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
            if event.get("Type") in STREAM_EVENT_TYPES:
                problems.extend(check_stream_event(fname, ename, event.get("Properties") or {}))
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
                    # The table's indexes project keys only: whoever queries
                    # one reads the items behind it from the table by key.
                    reads_index = "dynamodb:Query" in actions and any(
                        "/index/" in (sub_text(r) or "") for r in resources_
                    )
                    if reads_index and "dynamodb:BatchGetItem" not in actions:
                        problems.append(
                            f"index-reads: {fname} statement {st.get('Sid', '?')} queries an index "
                            "but may not BatchGetItem the items behind it (the indexes are KEYS_ONLY)"
                        )
    return problems


def main(paths):
    failed = False
    for path in paths:
        with open(path, encoding="utf-8") as f:
            problems = check(yaml_parse(f.read()))
        for p in problems:
            print(f"{path}: {p}")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
