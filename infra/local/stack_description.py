"""The read-back side of the local stack: what the emulator (or a real
account) created for the stack, written as the JSON description the local
runner starts from: physical ids, each function's environment and timeout,
HTTP routes, queue and stream sources, schedules, and every event source
mapping that would consume besides the runner.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from stack_template import (
    PHYSICAL_ID_OUTPUT,
    DeployError,
    Resolver,
    Unresolved,
    filter_patterns,
    is_intrinsic,
    logical_id_of,
    parse_input,
)

MAPPING_DISABLED_STATES = {"Disabled"}


# ------------------------------------------------------------------ read back


def stack_resources(cfn: Any, stack_name: str, transformed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every resource of the transformed template with its physical id, or None.

    moto lists a resource type it cannot create as a blank entry (no logical
    id, no type), so the template's own list is the base and the emulator's
    answer fills in the physical ids.
    """
    resources = {
        logical_id: {"type": resource.get("Type"), "physical_id": None, "emulated": False}
        for logical_id, resource in transformed["Resources"].items()
    }
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for summary in page["StackResourceSummaries"]:
            logical_id = summary.get("LogicalResourceId")
            if not logical_id:
                continue
            resources[logical_id] = {
                "type": summary.get("ResourceType"),
                "physical_id": summary.get("PhysicalResourceId") or None,
                "emulated": True,
            }
    for key, value in all_outputs(cfn, stack_name).items():
        logical_id = key[len(PHYSICAL_ID_OUTPUT) :] if key.startswith(PHYSICAL_ID_OUTPUT) else None
        if logical_id in resources and not resources[logical_id]["physical_id"] and value:
            resources[logical_id]["physical_id"] = value
    return resources


def stack_resolver(
    cfn: Any, stack_name: str, region: str, transformed: dict[str, Any], resources: dict[str, dict[str, Any]]
) -> Resolver:
    """Works out the template's values as the stack has them: its parameter values
    (the deployed ones, not only the template's defaults), pseudo parameters and
    physical ids."""
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    deployed = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters") or []}
    # arn:PARTITION:cloudformation:REGION:ACCOUNT:stack/NAME/ID
    arn = (stack.get("StackId") or "").split(":")
    pseudo = {
        "AWS::StackName": stack_name,
        "AWS::StackId": stack.get("StackId") or "",
        "AWS::Region": region,
        "AWS::Partition": arn[1] if len(arn) > 4 else "aws",
        "AWS::AccountId": arn[4] if len(arn) > 4 else "",
        "AWS::URLSuffix": "amazonaws.com",
    }
    physical = {logical_id: r["physical_id"] for logical_id, r in resources.items()}
    return Resolver(transformed, deployed, pseudo, physical)


def resolved_text(resolver: Resolver, value: Any, where: str) -> Any:
    """A template value the runner reads as it is (a schedule's expression or time
    zone): worked out when it is an intrinsic, such as `!Ref CityTimeZone`."""
    if not is_intrinsic(value):
        return value
    try:
        return resolver.resolve(value)
    except Unresolved as err:
        raise DeployError(f"{where}: {err}") from err


def all_outputs(cfn: Any, stack_name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs") or []}


def stack_outputs(cfn: Any, stack_name: str) -> dict[str, str]:
    """The template's outputs (without the ones for_emulator adds)."""
    return {k: v for k, v in all_outputs(cfn, stack_name).items() if not k.startswith(PHYSICAL_ID_OUTPUT)}


def queue_url_for_arn(sqs: Any, resources: dict[str, dict[str, Any]], arn: str) -> str | None:
    """The stack's URL for a queue ARN (the form the functions' environment holds)."""
    from botocore.exceptions import ClientError

    parts = arn.split(":")
    if len(parts) < 6:
        return None
    name = parts[5]
    for resource in resources.values():
        url = resource["physical_id"]
        if resource["type"] == "AWS::SQS::Queue" and url and url.rsplit("/", 1)[-1] == name:
            return url
    try:
        return sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
    except ClientError:
        return None


def read_functions(
    lambda_client: Any, specs: dict[str, dict[str, Any]], resources: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    functions = {}
    for logical_id, spec in specs.items():
        physical = (resources.get(logical_id) or {}).get("physical_id")
        if not physical:
            raise DeployError(f"the emulator created no Lambda function for {logical_id}")
        config = lambda_client.get_function_configuration(FunctionName=physical)
        functions[logical_id] = {
            "binary": spec["binary"],
            "function_name": config.get("FunctionName", physical),
            # Lambda's variables are strings (a Number parameter's !Ref included).
            "environment": {
                name: value if isinstance(value, str) else json.dumps(value)
                for name, value in ((config.get("Environment") or {}).get("Variables") or {}).items()
            },
            # Seconds each invocation may take (Globals' Timeout unless the function sets its own).
            "timeout": config.get("Timeout", 3),
        }
    return functions


def queue_name_of(url_or_arn: str | None) -> str | None:
    if not url_or_arn:
        return None
    return url_or_arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def list_mappings(lambda_client: Any, functions: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Every event source mapping the emulator or account has for each of the stack's functions."""
    paginator = lambda_client.get_paginator("list_event_source_mappings")
    return {
        logical_id: [
            m for page in paginator.paginate(FunctionName=fn["function_name"]) for m in page["EventSourceMappings"]
        ]
        for logical_id, fn in functions.items()
    }


def mapping_enabled(mapping: dict[str, Any]) -> bool:
    """False only for a mapping Lambda reports Disabled: any other state may be polling."""
    return mapping.get("State") not in MAPPING_DISABLED_STATES


def mapping_fields(mapping: dict[str, Any] | None) -> dict[str, Any]:
    """The mapping a source has in the emulator or account, for the runner's double-consumer check."""
    return {
        "event_source_mapping": mapping.get("UUID") if mapping else None,
        "event_source_mapping_state": mapping.get("State") if mapping else None,
        "event_source_mapping_enabled": mapping_enabled(mapping) if mapping else None,
    }


def queue_source(
    function_id: str,
    event: dict[str, Any],
    mapping: dict[str, Any] | None,
    queue_url: str | None,
    values_from_mapping: bool,
) -> dict[str, Any]:
    """One SQS source: the template's values, or (values_from_mapping) the mapping's where it has them."""
    values = (mapping or {}) if values_from_mapping else {}
    response_types = values.get("FunctionResponseTypes")
    scaling = values.get("ScalingConfig") or {}
    return {
        "function": function_id,
        "queue": event["queue"],
        "queue_url": queue_url,
        "batch_size": values.get("BatchSize", event["batch_size"]),
        "maximum_batching_window_seconds": values.get(
            "MaximumBatchingWindowInSeconds", event["maximum_batching_window_seconds"]
        ),
        "report_batch_item_failures": (
            "ReportBatchItemFailures" in response_types
            if response_types is not None
            else event["report_batch_item_failures"]
        ),
        "maximum_concurrency": scaling.get("MaximumConcurrency", event["maximum_concurrency"]),
        **mapping_fields(mapping),
    }


def read_queue_sources(
    clients: dict[str, Any],
    specs: dict[str, dict[str, Any]],
    resources: dict[str, dict[str, Any]],
    mappings: dict[str, list[dict[str, Any]]],
    from_mappings: bool,
) -> list[dict[str, Any]]:
    """SQS sources as the template says; with from_mappings (a real stack) as its mappings say.

    The queue URL is the stack's physical id of the event's queue; a real
    stack's mapping may name a queue outside the stack instead.
    """
    sources = []
    for logical_id, spec in specs.items():
        sqs_mappings = [m for m in mappings.get(logical_id, []) if ":sqs:" in (m.get("EventSourceArn") or "")]
        for event in spec["sqs"]:
            queue_url = (resources.get(event["queue"]) or {}).get("physical_id") if event["queue"] else None
            wanted = queue_name_of(queue_url)
            mapping = next(
                (m for m in sqs_mappings if wanted and queue_name_of(m.get("EventSourceArn")) == wanted), None
            )
            if mapping is None and from_mappings and len(spec["sqs"]) == 1 and len(sqs_mappings) == 1:
                mapping = sqs_mappings[0]  # the queue is not a resource of this stack
            if mapping is not None and from_mappings:
                queue_url = queue_url_for_arn(clients["sqs"], resources, mapping["EventSourceArn"]) or queue_url
            sources.append(queue_source(logical_id, event, mapping, queue_url, from_mappings))
    return sources


def destination_queue_url(
    sqs: Any, resources: dict[str, dict[str, Any]], destination: Any, where: str
) -> str | None:
    """URL of an on-failure destination that is an SQS queue (`!GetAtt Q.Arn` or an ARN), else None."""
    if destination is None:
        return None
    target = logical_id_of(destination)
    if target is not None:
        resource = resources.get(target) or {}
        if resource.get("type") == "AWS::SQS::Queue" and resource.get("physical_id"):
            return resource["physical_id"]
    elif isinstance(destination, str) and destination.startswith("arn:") and ":sqs:" in destination:
        url = queue_url_for_arn(sqs, resources, destination)
        if url:
            return url
    print(f"warning: {where}: on-failure destination {destination!r} is no SQS queue known here", file=sys.stderr)
    return None


def table_stream(
    dynamodb: Any, resources: dict[str, dict[str, Any]], function_id: str, event: dict[str, Any]
) -> tuple[str | None, str, str]:
    """(table logical id or None, table name, stream ARN) of a DynamoDB event."""
    where = f"{function_id} event {event['name']}"
    table, literal_arn = event["table"], None
    resource = resources.get(table) if table else None
    if resource is not None and resource["type"] == "AWS::DynamoDB::Table":
        table_name = resource["physical_id"]
        if not table_name:
            raise DeployError(f"{where}: the emulator created no table for {table}")
    elif isinstance(event["stream"], str) and ":table/" in event["stream"]:
        table, literal_arn = None, event["stream"]
        table_name = literal_arn.split(":table/", 1)[1].split("/", 1)[0]
    else:
        raise DeployError(f"{where}: Stream is neither !GetAtt TABLE.StreamArn of a table of the stack nor an ARN")
    description = dynamodb.describe_table(TableName=table_name)["Table"]
    stream_arn = literal_arn or description.get("LatestStreamArn")
    if not stream_arn or not (description.get("StreamSpecification") or {}).get("StreamEnabled", True):
        raise DeployError(f"{where}: table {table_name} has no stream")
    return table, table_name, stream_arn


def stream_source(
    sqs: Any,
    resources: dict[str, dict[str, Any]],
    function_id: str,
    event: dict[str, Any],
    table: tuple[str | None, str, str],
    mapping: dict[str, Any] | None,
    values_from_mapping: bool,
) -> dict[str, Any]:
    """One DynamoDB stream source: the template's values, or (values_from_mapping) the mapping's where it has them."""
    where = f"{function_id} event {event['name']}"
    values = (mapping or {}) if values_from_mapping else {}
    response_types = values.get("FunctionResponseTypes")
    destination = ((values.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    if destination is None:
        destination = event["on_failure_destination"]
    table_id, table_name, stream_arn = table
    return {
        "function": function_id,
        "table": table_id,
        "table_name": table_name,
        "stream_arn": stream_arn,
        "starting_position": values.get("StartingPosition", event["starting_position"]),
        "batch_size": values.get("BatchSize", event["batch_size"]),
        "maximum_batching_window_seconds": values.get(
            "MaximumBatchingWindowInSeconds", event["maximum_batching_window_seconds"]
        ),
        "report_batch_item_failures": (
            "ReportBatchItemFailures" in response_types
            if response_types is not None
            else event["report_batch_item_failures"]
        ),
        "bisect_batch_on_function_error": values.get(
            "BisectBatchOnFunctionError", event["bisect_batch_on_function_error"]
        ),
        "maximum_retry_attempts": values.get("MaximumRetryAttempts", event["maximum_retry_attempts"]),
        "maximum_record_age_seconds": values.get("MaximumRecordAgeInSeconds", event["maximum_record_age_seconds"]),
        "on_failure_queue_url": destination_queue_url(sqs, resources, destination, where),
        "filter_patterns": (
            filter_patterns(values["FilterCriteria"], where) if "FilterCriteria" in values else event["filter_patterns"]
        ),
        **mapping_fields(mapping),
    }


def read_stream_sources(
    clients: dict[str, Any],
    specs: dict[str, dict[str, Any]],
    resources: dict[str, dict[str, Any]],
    mappings: dict[str, list[dict[str, Any]]],
    from_mappings: bool,
) -> list[dict[str, Any]]:
    """DynamoDB stream sources as the template says; with from_mappings (a real stack) as its mappings say."""
    sources = []
    for logical_id, spec in specs.items():
        for event in spec["streams"]:
            table = table_stream(clients["dynamodb"], resources, logical_id, event)
            _, table_name, stream_arn = table
            own = [m for m in mappings.get(logical_id, []) if m.get("EventSourceArn") == stream_arn]
            # A mapping on an older stream of the same table still reads that table.
            older = [m for m in mappings.get(logical_id, []) if f":table/{table_name}/stream/" in (m.get("EventSourceArn") or "")]
            mapping = (own or older or [None])[0]
            sources.append(stream_source(clients["sqs"], resources, logical_id, event, table, mapping, from_mappings))
    return sources


def mapping_list(
    functions: dict[str, dict[str, Any]], mappings: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Every mapping of the stack's functions: the runner consumes nothing an enabled one consumes."""
    return [
        {
            "function": logical_id,
            "function_name": functions[logical_id]["function_name"],
            "uuid": m.get("UUID"),
            "event_source_arn": m.get("EventSourceArn"),
            "state": m.get("State"),
            "enabled": mapping_enabled(m),
        }
        for logical_id, found in mappings.items()
        for m in found
    ]


def build_description(
    clients: dict[str, Any],
    stack_name: str,
    endpoint_url: str,
    region: str,
    specs: dict[str, dict[str, Any]],
    transformed: dict[str, Any],
    from_mappings: bool = False,
    api_created: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON description. from_mappings: a real stack, whose event source mappings hold the source settings.

    api_created: logical id -> physical id of the resources deploy_stack.py
    made through the emulator's service APIs (stack_api_resources).
    """
    cfn = clients["cloudformation"]
    resources = stack_resources(cfn, stack_name, transformed)
    resolver = stack_resolver(cfn, stack_name, region, transformed, resources)
    # Resources whose Condition is false do not exist in the stack at all.
    excluded = {
        logical_id: r["type"]
        for logical_id, r in sorted(resources.items())
        if not r["emulated"] and not resolver.included(transformed["Resources"].get(logical_id) or {})
    }
    for logical_id in excluded:
        del resources[logical_id]
    for logical_id, physical_id in (api_created or {}).items():
        if logical_id in resources:
            resources[logical_id].update(physical_id=physical_id, emulated=True)
    functions = read_functions(clients["lambda"], specs, resources)
    mappings = list_mappings(clients["lambda"], functions)
    return {
        "stack_name": stack_name,
        "endpoint_url": endpoint_url,
        "region": region,
        # The stack's parameter values (defaults included) and its conditions.
        "parameters": dict(sorted(resolver.parameters.items())),
        "conditions": resolver.conditions(),
        "resources": {logical_id: r["physical_id"] for logical_id, r in sorted(resources.items())},
        # Resource types moto's CloudFormation does not create, or that are not
        # sent to it (NOT_SENT_TYPES): the local runner stands in for them (HTTP
        # API routes, schedules, event source mappings) or nothing does (bucket
        # policy, event archive); alarms and subscriptions are not here when
        # deploy_stack.py made them through the emulator's APIs (created_through_api).
        "not_emulated": {logical_id: r["type"] for logical_id, r in sorted(resources.items()) if not r["emulated"]},
        "created_through_api": {
            logical_id: resources[logical_id]["type"] for logical_id in sorted(api_created or {}) if logical_id in resources
        },
        # Resources of the template whose Condition is false for this stack.
        "excluded_by_condition": excluded,
        "outputs": stack_outputs(cfn, stack_name),
        "functions": functions,
        "http_routes": [
            {"method": route["method"], "path": route["path"], "function": logical_id}
            for logical_id, spec in specs.items()
            for route in spec["http"]
        ],
        "queue_sources": read_queue_sources(clients, specs, resources, mappings, from_mappings),
        "stream_sources": read_stream_sources(clients, specs, resources, mappings, from_mappings),
        # Expressions, time zones and inputs as the stack has them (`!Ref CityTimeZone` worked out).
        "schedules": [
            {
                "name": s["name"],
                "function": logical_id,
                "expression": resolved_text(resolver, s["expression"], f"{logical_id} schedule {s['name']}"),
                "timezone": resolved_text(resolver, s["timezone"], f"{logical_id} schedule {s['name']}"),
                "input": (
                    parse_input(resolved_text(resolver, s["input"], f"{logical_id} schedule {s['name']}"))
                    if is_intrinsic(s["input"])
                    else s["input"]
                ),
            }
            for logical_id, spec in specs.items()
            for s in spec["schedules"]
        ],
        # Functions subscribed to a topic: the runner subscribes a queue of its
        # own and invokes them with Lambda's SNS event (sns_delivery.rs).
        "sns_sources": [
            {"function": logical_id, "topic_arn": resources[s["topic"]]["physical_id"]}
            for logical_id, spec in specs.items()
            for s in spec.get("sns", [])
            if s["topic"] in resources and resources[s["topic"]]["physical_id"]
        ],
        # Functions a service invokes directly (Connect): the runner answers
        # POST /_local/invoke/<function> for them as that service would call.
        "direct_invocations": [
            {"function": logical_id, "principal": principal}
            for logical_id, spec in specs.items()
            for principal in spec.get("invokers", [])
        ],
        # Empty on the emulator: it gets no mappings (NOT_SENT_TYPES).
        "event_source_mappings": mapping_list(functions, mappings),
    }


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def summary(description: dict[str, Any], action: str, out: Path) -> str:
    lines = [
        f"stack {description['stack_name']} on {description['endpoint_url']} ({description['region']}): "
        f"{action}, {len(description['resources'])} resources",
    ]
    if description["not_emulated"]:
        lines.append(f"  not created by the emulator: {', '.join(sorted(set(description['not_emulated'].values())))}")
    made = description.get("created_through_api") or {}
    for kind in sorted(set(made.values())):
        lines.append(f"  made through the emulator's API: {sum(1 for k in made.values() if k == kind)} {kind}")
    if description.get("excluded_by_condition"):
        lines.append(f"  condition false, not in the stack: {', '.join(description['excluded_by_condition'])}")
    for logical_id, fn in description["functions"].items():
        lines.append(f"  {logical_id:<24} {fn['binary'] or '?':<16} {len(fn['environment'])} env vars")
    for invocation in description.get("direct_invocations", []):
        lines.append(f"  invoked by {invocation['principal']:<30} -> {invocation['function']}")
    for source in description.get("sns_sources", []):
        lines.append(f"  topic {source['topic_arn'].rsplit(':', 1)[-1]} -> {source['function']}")
    for route in description["http_routes"]:
        lines.append(f"  {route['method']:<6} {route['path']:<48} -> {route['function']}")
    for source in description["queue_sources"]:
        lines.append(f"  queue {source['queue']} (batch {source['batch_size']}) -> {source['function']}")
    for source in description["stream_sources"]:
        retries = source["maximum_retry_attempts"]
        failures = queue_name_of(source["on_failure_queue_url"]) or "nowhere"
        lines.append(
            f"  stream {source['table'] or source['table_name']} (batch {source['batch_size']}, "
            f"{len(source['filter_patterns'])} filter(s), "
            f"{'infinite' if retries is None or retries < 0 else retries} retries, failures to {failures}) "
            f"-> {source['function']}"
        )
    for schedule in description["schedules"]:
        zone = f" ({schedule['timezone']})" if schedule["timezone"] else ""
        lines.append(f"  schedule {schedule['name']} {schedule['expression']}{zone} -> {schedule['function']}")
    mappings = description["event_source_mappings"]
    enabled = [m for m in mappings if m["enabled"]]
    lines.append(f"  event source mappings: {len(mappings)} ({len(enabled)} enabled)")
    for mapping in enabled:
        lines.append(f"    enabled {mapping['uuid']} {mapping['event_source_arn']} -> {mapping['function']}")
    lines.append(f"written to {out}")
    return "\n".join(lines)
