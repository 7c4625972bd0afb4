"""The template side of the local stack: template.yaml read and described
(each function's binary, HTTP routes, queue and stream sources, schedules),
transformed offline with aws-sam-translator, and made into the template the
emulator is given (no event source mappings: the local runner is the only
consumer of every queue and stream); and Resolver, which works out template
values (Ref, GetAtt, Sub, If, conditions, AWS::NoValue) against a stack.
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
    """Per serverless function: binary, HTTP routes, SQS, DynamoDB stream and SNS sources and schedules."""
    functions: dict[str, dict[str, Any]] = {}
    for logical_id, resource in template["Resources"].items():
        if not isinstance(resource, dict) or resource.get("Type") != SERVERLESS_FUNCTION:
            continue
        build = (resource.get("Metadata") or {}).get("BuildProperties") or {}
        spec: dict[str, Any] = {
            "binary": build.get("Binary"),
            "http": [],
            "sqs": [],
            "streams": [],
            "schedules": [],
            "sns": [],
        }
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
            elif kind == "SNS":
                spec["sns"].append({"topic": logical_id_of(props.get("Topic"))})
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
    # Services that invoke a function directly (Amazon Connect's contact
    # flows): a Lambda permission for a service principal.
    for resource in template["Resources"].values():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Lambda::Permission":
            continue
        props = resource.get("Properties") or {}
        target = logical_id_of(props.get("FunctionName"))
        principal = props.get("Principal")
        if target in functions and isinstance(principal, str) and principal.endswith(".amazonaws.com"):
            functions[target].setdefault("invokers", []).append(principal)
    return functions


# ---------------------------------------------------------- intrinsic values


class Unresolved(DeployError):
    """A template value this script cannot work out (an intrinsic or attribute it does not know)."""


NO_VALUE = object()  # what `Ref AWS::NoValue` resolves to: the key or list item is dropped


def is_intrinsic(value: Any) -> bool:
    """True for `{"Ref": …}`, `{"Condition": …}` or `{"Fn::…": …}`."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return key in ("Ref", "Condition") or key.startswith("Fn::")


def parameter_values(template: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    """Every declared parameter's value as a string: the given one, else the template's default."""
    values = {}
    for key, declaration in (template.get("Parameters") or {}).items():
        if key in given and given[key] is not None:
            values[key] = str(given[key])
        elif isinstance(declaration, dict) and "Default" in declaration:
            values[key] = str(declaration["Default"])
    return values


class Resolver:
    """Works out template values the way CloudFormation would, from what is known here.

    Knows Ref (parameters, pseudo parameters, resources' physical ids),
    Fn::GetAtt of the attributes in ATTRIBUTES, Fn::Sub, Fn::Join, Fn::Split,
    Fn::Select, Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition and
    AWS::NoValue; anything else raises Unresolved.
    """

    def __init__(
        self,
        template: dict[str, Any],
        parameters: dict[str, str],
        pseudo: dict[str, str] | None = None,
        physical_ids: dict[str, str | None] | None = None,
    ) -> None:
        self.template = template
        self.parameters = parameter_values(template, parameters)
        self.pseudo = dict(pseudo or {})
        self.physical_ids = dict(physical_ids or {})
        self.types = {
            logical_id: resource.get("Type")
            for logical_id, resource in (template.get("Resources") or {}).items()
            if isinstance(resource, dict)
        }
        self._conditions: dict[str, bool] = {}

    # Conditions

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            declared = self.template.get("Conditions") or {}
            if name not in declared:
                raise Unresolved(f"condition {name} is not declared")
            self._conditions[name] = False  # a condition that refers to itself is false, not a recursion
            self._conditions[name] = self.truth(declared[name])
        return self._conditions[name]

    def conditions(self) -> dict[str, bool]:
        return {name: self.condition(name) for name in self.template.get("Conditions") or {}}

    def truth(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Condition" and isinstance(arg, str):
                return self.condition(arg)
            if key == "Fn::Equals" and isinstance(arg, list) and len(arg) == 2:
                left, right = (self.resolve(item) for item in arg)
                return str(left) == str(right)
            if key == "Fn::Not" and isinstance(arg, list) and len(arg) == 1:
                return not self.truth(arg[0])
            if key == "Fn::And" and isinstance(arg, list):
                return all(self.truth(item) for item in arg)
            if key == "Fn::Or" and isinstance(arg, list):
                return any(self.truth(item) for item in arg)
        raise Unresolved(f"not a condition: {value!r}")

    def included(self, resource: dict[str, Any]) -> bool:
        """False for a resource whose Condition is false (CloudFormation does not create it)."""
        name = resource.get("Condition") if isinstance(resource, dict) else None
        return True if name is None else self.condition(name)

    # Values

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        if name in self.pseudo:
            return self.pseudo[name]
        if self.physical_ids.get(name):
            return self.physical_ids[name]
        raise Unresolved(f"Ref {name}: no value known here")

    def attribute(self, logical_id: str, attribute: str) -> str:
        physical = self.physical_ids.get(logical_id)
        kind = self.types.get(logical_id)
        getter = ATTRIBUTES.get((kind, attribute))
        if not physical or getter is None:
            raise Unresolved(f"Fn::GetAtt {logical_id}.{attribute} ({kind}): no value known here")
        return getter(physical, self.pseudo)

    def substitute(self, text: str, variables: dict[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            name = match[1]
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.attribute(logical_id, attribute)
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic worked out; NO_VALUE for `Ref AWS::NoValue` (dropped inside lists and maps)."""
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" and isinstance(arg, str):
                return self.ref(arg)
            if key == "Fn::GetAtt":
                parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return self.attribute(str(parts[0]), str(self.resolve(parts[1])))
            if key == "Fn::Sub":
                text, variables = (arg[0], arg[1] if len(arg) > 1 else {}) if isinstance(arg, list) else (arg, {})
                return self.substitute(str(text), variables or {})
            if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
                return str(arg[0]).join(str(item) for item in self.resolve(arg[1]))
            if key == "Fn::Split" and isinstance(arg, list) and len(arg) == 2:
                return str(self.resolve(arg[1])).split(str(arg[0]))
            if key == "Fn::Select" and isinstance(arg, list) and len(arg) == 2:
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if key == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
                return self.resolve(arg[1] if self.condition(str(arg[0])) else arg[2])
            if key in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition"):
                return self.truth(value)
            if key.startswith("Fn::"):
                raise Unresolved(f"{key} is not known here")
        resolved = {}
        for key, item in value.items():
            item = self.resolve(item)
            if item is not NO_VALUE:
                resolved[key] = item
        return resolved


def _queue_arn(url: str, pseudo: dict[str, str]) -> str:
    """arn:…:sqs:REGION:ACCOUNT:NAME of a queue URL (https://sqs.REGION.…/ACCOUNT/NAME)."""
    account, name = url.rstrip("/").rsplit("/", 2)[-2:]
    return f"arn:{pseudo.get('AWS::Partition', 'aws')}:sqs:{pseudo.get('AWS::Region', '')}:{account}:{name}"


# (resource type, attribute) -> the attribute's value from the physical id.
ATTRIBUTES = {
    ("AWS::SQS::Queue", "QueueName"): lambda url, _: url.rstrip("/").rsplit("/", 1)[-1],
    ("AWS::SQS::Queue", "QueueUrl"): lambda url, _: url,
    ("AWS::SQS::Queue", "Arn"): _queue_arn,
    ("AWS::SNS::Topic", "TopicArn"): lambda arn, _: arn,
    ("AWS::SNS::Topic", "TopicName"): lambda arn, _: arn.rsplit(":", 1)[-1],
    ("AWS::DynamoDB::Table", "TableName"): lambda name, _: name,
    ("AWS::Events::EventBus", "Name"): lambda name, _: name,
}


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
