"""Resources the emulator's CloudFormation leaves empty but its service APIs
can make: CloudWatch alarms (PutMetricAlarm) and SNS subscriptions
(Subscribe); and bucket settings it ignores (versioning and Object Lock,
see complete_buckets). deploy_stack.py puts them after the stack is created or reused,
each from the transformed template with every value worked out against the
stack (physical ids, parameter values, conditions), so the alarms exist on the
emulator with their actions pointing at the stack's own topic.

An alarm is named STACK-LOGICALID (CloudFormation adds a random suffix);
alarms of that form whose logical id the stack no longer has, or whose
condition is now false, are deleted. Never used with --describe-only: in a
real account CloudFormation makes these resources itself.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Callable

from stack_template import Resolver, Unresolved

ALARM_TYPE = "AWS::CloudWatch::Alarm"
SUBSCRIPTION_TYPE = "AWS::SNS::Subscription"

# CloudFormation's AWS::CloudWatch::Alarm properties that PutMetricAlarm takes
# under the same name, with the type the API wants.
ALARM_PROPERTIES: dict[str, Callable[[Any], Any]] = {
    "AlarmDescription": str,
    "ActionsEnabled": lambda v: str(v).lower() == "true",
    "AlarmActions": lambda v: [str(a) for a in v],
    "OKActions": lambda v: [str(a) for a in v],
    "InsufficientDataActions": lambda v: [str(a) for a in v],
    "Namespace": str,
    "MetricName": str,
    "Dimensions": lambda v: [{"Name": str(d["Name"]), "Value": str(d["Value"])} for d in v],
    "Statistic": str,
    "ExtendedStatistic": str,
    "Unit": str,
    "Period": int,
    "EvaluationPeriods": int,
    "DatapointsToAlarm": int,
    "Threshold": float,
    "ThresholdMetricId": str,
    "ComparisonOperator": str,
    "TreatMissingData": str,
    "EvaluateLowSampleCountPercentile": str,
    "Metrics": lambda v: v,
}
SUBSCRIPTION_ATTRIBUTES = ("DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy")


def alarm_name(stack_name: str, logical_id: str) -> str:
    return f"{stack_name}-{logical_id}"


def put_alarm(clients: dict[str, Any], stack_name: str, logical_id: str, props: dict[str, Any]) -> str:
    name = str(props.get("AlarmName") or alarm_name(stack_name, logical_id))
    args: dict[str, Any] = {"AlarmName": name}
    for key, convert in ALARM_PROPERTIES.items():
        if key in props:
            args[key] = convert(props[key])
    clients["cloudwatch"].put_metric_alarm(**args)
    return name


def subscribe(clients: dict[str, Any], stack_name: str, logical_id: str, props: dict[str, Any]) -> str:
    sns = clients["sns"]
    topic, protocol, endpoint = str(props["TopicArn"]), str(props["Protocol"]), str(props.get("Endpoint", ""))
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic):
        for existing in page["Subscriptions"]:
            if existing.get("Protocol") == protocol and existing.get("Endpoint") == endpoint:
                return existing["SubscriptionArn"]
    attributes = {
        key: value if isinstance(value, str) else json.dumps(value)
        for key, value in props.items()
        if key in SUBSCRIPTION_ATTRIBUTES
    }
    return sns.subscribe(
        TopicArn=topic, Protocol=protocol, Endpoint=endpoint, Attributes=attributes, ReturnSubscriptionArn=True
    )["SubscriptionArn"]


MAKERS: dict[str, Callable[[dict[str, Any], str, str, dict[str, Any]], str]] = {
    ALARM_TYPE: put_alarm,
    SUBSCRIPTION_TYPE: subscribe,
}


def put_api_resources(
    clients: dict[str, Any],
    stack_name: str,
    transformed: dict[str, Any],
    physical_ids: dict[str, str | None],
    resolver: Resolver,
) -> dict[str, str]:
    """Puts every resource of a MAKERS type the emulator left empty; returns logical id -> physical id.

    A resource whose values cannot be worked out here is left out with a
    warning (it stays under not_emulated), never failing the deploy.
    """
    made: dict[str, str] = {}
    for logical_id, resource in transformed["Resources"].items():
        if not isinstance(resource, dict) or resource.get("Type") not in MAKERS or physical_ids.get(logical_id):
            continue
        try:
            if not resolver.included(resource):
                continue
            if resource["Type"] == SUBSCRIPTION_TYPE and (resource.get("Properties") or {}).get("Protocol") == "lambda":
                # The emulator would invoke the function itself: the local
                # runner delivers the topic to it instead (sns_delivery.rs).
                continue
            props = resolver.resolve(resource.get("Properties") or {})
            made[logical_id] = MAKERS[resource["Type"]](clients, stack_name, logical_id, props)
        except (Unresolved, KeyError, TypeError, ValueError) as err:
            print(f"warning: {logical_id} ({resource['Type']}) not made on the emulator: {err}", file=sys.stderr)
    delete_stale_alarms(clients["cloudwatch"], stack_name, set(made.values()))
    complete_buckets(clients["s3"], transformed, physical_ids, resolver)
    return made


def complete_buckets(
    s3: Any, transformed: dict[str, Any], physical_ids: dict[str, str | None], resolver: Resolver
) -> None:
    """Gives each bucket the stack made the versioning and Object Lock its
    template asks for: moto's CloudFormation creates the bucket without them
    (the audit trail's bucket would otherwise let records be deleted). Object
    Lock can only be turned on while the bucket is empty, so this runs right
    after the stack is created; a bucket that has it already is left alone.
    """
    for logical_id, resource in transformed["Resources"].items():
        bucket = physical_ids.get(logical_id)
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::S3::Bucket" or not bucket:
            continue
        try:
            if not resolver.included(resource):
                continue
            props = resolver.resolve(resource.get("Properties") or {})
        except (Unresolved, KeyError, TypeError, ValueError) as err:
            print(f"warning: settings of bucket {logical_id} not applied on the emulator: {err}", file=sys.stderr)
            continue
        versioning = (props.get("VersioningConfiguration") or {}).get("Status")
        if versioning:
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": str(versioning)})
        lock = props.get("ObjectLockConfiguration")
        if not lock or str(props.get("ObjectLockEnabled")).lower() != "true":
            continue
        try:
            s3.get_object_lock_configuration(Bucket=bucket)
            continue
        except s3.exceptions.ClientError:
            pass
        retention = (lock.get("Rule") or {}).get("DefaultRetention") or {}
        configuration: dict[str, Any] = {"ObjectLockEnabled": "Enabled"}
        if retention:
            configuration["Rule"] = {
                "DefaultRetention": {
                    "Mode": str(retention["Mode"]),
                    **{unit: int(retention[unit]) for unit in ("Days", "Years") if unit in retention},
                }
            }
        s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=configuration)


def delete_stale_alarms(cloudwatch: Any, stack_name: str, kept: set[str]) -> None:
    """Deletes STACK-LOGICALID alarms not in `kept` (logical ids are alphanumeric, so
    another stack whose name starts with this one's never matches)."""
    prefix = alarm_name(stack_name, "")
    stale = [
        alarm["AlarmName"]
        for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix)
        for alarm in page.get("MetricAlarms", [])
        if alarm["AlarmName"][len(prefix) :].isalnum() and alarm["AlarmName"] not in kept
    ]
    for start in range(0, len(stale), 100):
        cloudwatch.delete_alarms(AlarmNames=stale[start : start + 100])
