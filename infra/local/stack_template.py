"""The template side of the local stack: template.yaml read and described
(each function's binary, HTTP routes, queue and stream sources, schedules),
transformed offline with aws-sam-translator, and made into the template the
emulator is given (no event source mappings: the local runner is the only
consumer of every queue and stream).
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
from pathlib import Path
from typing import Any


class DeployError(Exception):
    """A failure that ends the script with a message and exit status 1."""


SERVERLESS_FUNCTION = "AWS::Serverless::Function"
NOT_SENT_TYPES = {
    # moto would poll the queues and streams itself: the runner must be their only consumer.
    "AWS::Lambda::EventSourceMapping": "the local runner consumes every queue and stream",
    # moto 5.2.5 passes the EventPattern object to json.loads and fails the CreateStack.
    "AWS::Events::Archive": "moto cannot create it from a template",
}
REF_AS_ATTRIBUTE = {"AWS::Events::EventBus": "Name"}
PHYSICAL_ID_OUTPUT = "DeployStackPhysicalId"
SCHEDULE_EVENT_TYPES = {"Schedule", "ScheduleV2"}
STREAM_DEFAULT_BATCH_SIZE = 100


# ------------------------------------------------------------------- template


def read_template(path: Path) -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse

    try:
        template = yaml_parse(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise DeployError(f"cannot read {path}: {err}") from err
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise DeployError(f"{path}: not a template with Resources")
    return template


def logical_id_of(value: Any) -> str | None:
    """Logical id behind `!Ref X`, `!GetAtt X.Arn` or `Fn::GetAtt: [X, Arn]`."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((key, arg),) = value.items()
    if key == "Ref" and isinstance(arg, str):
        return arg
    if key == "Fn::GetAtt":
        if isinstance(arg, list) and arg and isinstance(arg[0], str):
            return arg[0]
        if isinstance(arg, str):
            return arg.split(".", 1)[0]
    return None


def parse_input(raw: Any) -> Any:
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def literal_int(value: Any, where: str, default: int | None = None) -> int | None:
    """An integer property of the template (a number or a numeric string), or the default."""
    if value is None:
        return default
    if isinstance(value, bool):
        raise DeployError(f"{where}: wants a number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return int(value)
    raise DeployError(f"{where}: wants a literal number, got {value!r}")


def literal_bool(value: Any, where: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise DeployError(f"{where}: wants a literal true or false, got {value!r}")


def filter_patterns(criteria: Any, where: str) -> list[Any]:
    """The event filter patterns of a FilterCriteria, each JSON-decoded."""
    patterns = []
    for index, entry in enumerate((criteria or {}).get("Filters") or []):
        pattern = (entry or {}).get("Pattern")
        if isinstance(pattern, str):
            try:
                pattern = json.loads(pattern)
            except json.JSONDecodeError as err:
                raise DeployError(f"{where}: FilterCriteria.Filters[{index}].Pattern is not JSON: {err}") from err
        if not isinstance(pattern, dict):
            raise DeployError(f"{where}: FilterCriteria.Filters[{index}].Pattern is not a JSON object")
        patterns.append(pattern)
    return patterns


def stream_event(function_id: str, event_name: str, props: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB stream event of the template, with Lambda's defaults filled in."""
    where = f"{function_id} event {event_name}"
    on_failure = ((props.get("DestinationConfig") or {}).get("OnFailure")) or {}
    return {
        "name": event_name,
        "table": logical_id_of(props.get("Stream")),
        "stream": props.get("Stream"),
        "starting_position": props.get("StartingPosition"),
        "batch_size": literal_int(props.get("BatchSize"), f"{where} BatchSize", STREAM_DEFAULT_BATCH_SIZE),
        "maximum_batching_window_seconds": literal_int(
            props.get("MaximumBatchingWindowInSeconds"), f"{where} MaximumBatchingWindowInSeconds", 0
        ),
        "report_batch_item_failures": "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
        "bisect_batch_on_function_error": literal_bool(
            props.get("BisectBatchOnFunctionError"), f"{where} BisectBatchOnFunctionError"
        ),
        # None: not set, Lambda's default (-1, infinite); -1 set explicitly means the same.
        "maximum_retry_attempts": literal_int(props.get("MaximumRetryAttempts"), f"{where} MaximumRetryAttempts"),
        "maximum_record_age_seconds": literal_int(
            props.get("MaximumRecordAgeInSeconds"), f"{where} MaximumRecordAgeInSeconds"
        ),
        "on_failure_destination": on_failure.get("Destination"),
        "filter_patterns": filter_patterns(props.get("FilterCriteria"), where),
    }


def describe_functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per serverless function: binary, HTTP routes, SQS and DynamoDB stream sources and schedules."""
    functions: dict[str, dict[str, Any]] = {}
    for logical_id, resource in template["Resources"].items():
        if not isinstance(resource, dict) or resource.get("Type") != SERVERLESS_FUNCTION:
            continue
        build = (resource.get("Metadata") or {}).get("BuildProperties") or {}
        spec: dict[str, Any] = {"binary": build.get("Binary"), "http": [], "sqs": [], "streams": [], "schedules": []}
        events = (resource.get("Properties") or {}).get("Events") or {}
        for event_name, event in events.items():
            kind = event.get("Type")
            props = event.get("Properties") or {}
            if kind == "HttpApi":
                spec["http"].append(
                    {"method": str(props.get("Method", "ANY")).upper(), "path": props.get("Path", "$default")}
                )
            elif kind == "SQS":
                spec["sqs"].append(
                    {
                        "queue": logical_id_of(props.get("Queue")),
                        "batch_size": props.get("BatchSize", 10),
                        "maximum_batching_window_seconds": props.get("MaximumBatchingWindowInSeconds", 0),
                        "report_batch_item_failures": "ReportBatchItemFailures"
                        in (props.get("FunctionResponseTypes") or []),
                        "maximum_concurrency": (props.get("ScalingConfig") or {}).get("MaximumConcurrency"),
                    }
                )
            elif kind == "DynamoDB":
                spec["streams"].append(stream_event(logical_id, event_name, props))
            elif kind in SCHEDULE_EVENT_TYPES:
                spec["schedules"].append(
                    {
                        "name": event_name,
                        "expression": props.get("Schedule") if kind == "Schedule" else props.get("ScheduleExpression"),
                        "timezone": props.get("ScheduleExpressionTimezone"),
                        "input": parse_input(props.get("Input")),
                    }
                )
        functions[logical_id] = spec
    return functions


def with_placeholder_code(template: dict[str, Any], code_uri: str) -> dict[str, Any]:
    """A copy of the template whose functions all point at the uploaded placeholder."""
    result = copy.deepcopy(template)
    global_function = (result.get("Globals") or {}).get("Function")
    if isinstance(global_function, dict) and "CodeUri" in global_function:
        global_function["CodeUri"] = code_uri
    for resource in result["Resources"].values():
        if isinstance(resource, dict) and resource.get("Type") == SERVERLESS_FUNCTION:
            resource.setdefault("Properties", {})["CodeUri"] = code_uri
    return result


class NoManagedPolicies:
    """Managed-policy loader for offline transforms: knows no managed policy names."""

    def load(self) -> dict[str, str]:
        return {}


def transform(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform as sam_transform

    try:
        return sam_transform(template, dict(parameters), NoManagedPolicies())
    except InvalidDocumentException as err:
        causes = "; ".join(str(cause) for cause in err.causes)
        raise DeployError(f"SAM transform failed: {causes}") from err


def references(value: Any) -> set[str]:
    """Logical ids a template value refers to (Ref, Fn::GetAtt, Fn::Sub variables)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        target = logical_id_of(value)
        if target is not None:
            found.add(target)
        if len(value) == 1 and "Fn::Sub" in value:
            sub = value["Fn::Sub"]
            text, variables = (sub[0], sub[1] if len(sub) > 1 else {}) if isinstance(sub, list) else (sub, {})
            if isinstance(text, str):
                found |= {
                    name.split(".", 1)[0]
                    for name in re.findall(r"\$\{([^!}][^}]*)\}", text)
                    if name.split(".", 1)[0] not in (variables or {})
                }
            found |= references(variables)
        else:
            for item in value.values():
                found |= references(item)
    return found


def ref_as_attribute(value: Any, targets: dict[str, str]) -> Any:
    """`value` with each `Ref X` (and `${X}` in Fn::Sub) of a key of targets as `Fn::GetAtt [X, targets[X]]`."""
    if isinstance(value, list):
        return [ref_as_attribute(item, targets) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1 and isinstance(value.get("Ref"), str) and value["Ref"] in targets:
        return {"Fn::GetAtt": [value["Ref"], targets[value["Ref"]]]}
    if len(value) == 1 and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        text, variables = (sub[0], sub[1] if len(sub) > 1 else {}) if isinstance(sub, list) else (sub, {})
        if isinstance(text, str):
            text = re.sub(
                r"\$\{([^!}.][^}.]*)\}",
                lambda m: f"${{{m[1]}.{targets[m[1]]}}}" if m[1] in targets and m[1] not in (variables or {}) else m[0],
                text,
            )
        if isinstance(sub, list):
            return {"Fn::Sub": [text, ref_as_attribute(variables, targets), *sub[2:]]}
        return {"Fn::Sub": text}
    return {key: ref_as_attribute(item, targets) for key, item in value.items()}


def for_emulator(transformed: dict[str, Any]) -> dict[str, Any]:
    """The template sent to the emulator: the transformed one fitted to moto.

    Drops the NOT_SENT_TYPES resources and any DependsOn on them (refusing a
    template in which something else refers to one of them), sends each Ref
    to a REF_AS_ATTRIBUTE type as that attribute, and adds an output per
    such resource for its physical id (read back by stack_resources).
    """
    sent = copy.deepcopy(transformed)
    resources = sent["Resources"]
    dropped = {
        logical_id
        for logical_id, resource in resources.items()
        if isinstance(resource, dict) and resource.get("Type") in NOT_SENT_TYPES
    }
    for logical_id in dropped:
        del resources[logical_id]
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict):
            continue
        depends = resource.get("DependsOn")
        if isinstance(depends, str) and depends in dropped:
            del resource["DependsOn"]
        elif isinstance(depends, list):
            kept = [d for d in depends if d not in dropped]
            if kept:
                resource["DependsOn"] = kept
            else:
                del resource["DependsOn"]
    for section in ("Resources", "Outputs", "Conditions"):
        for name, value in (sent.get(section) or {}).items():
            used = references(value) & dropped
            for target in sorted(used):
                kind = transformed["Resources"][target]["Type"]
                raise DeployError(
                    f"{section} {name} refers to {target} ({kind}), which is not sent to the emulator: "
                    f"{NOT_SENT_TYPES[kind]}"
                )
    targets = {
        logical_id: REF_AS_ATTRIBUTE[resource["Type"]]
        for logical_id, resource in resources.items()
        if isinstance(resource, dict) and resource.get("Type") in REF_AS_ATTRIBUTE
    }
    if targets:
        for section in ("Resources", "Outputs", "Conditions"):
            if isinstance(sent.get(section), dict):
                sent[section] = ref_as_attribute(sent[section], targets)
        outputs = sent.setdefault("Outputs", {})
        for logical_id, attribute in sorted(targets.items()):
            outputs[PHYSICAL_ID_OUTPUT + logical_id] = {"Value": {"Fn::GetAtt": [logical_id, attribute]}}
    return sent
