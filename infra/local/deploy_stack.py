#!/usr/bin/env python3
"""Create the SAM stack of template.yaml on the local AWS-API emulator.

The template is the one list of resources: this script transforms it offline
with aws-sam-translator, creates it as a CloudFormation stack on moto server,
and writes a JSON description a local runner can use (physical names, each
function's environment as the emulator resolved it, HTTP routes, queue and
stream sources and schedules).

moto's CloudFormation creates tables (with streams), queues, buckets, IAM
roles, event buses and Lambda functions with resolved environment variables,
so those are read back from the emulator. It leaves the HTTP API
(AWS::ApiGatewayV2::*) and EventBridge schedules (AWS::Scheduler::Schedule)
as empty resources, so routes and schedules come from the template itself.

The emulator gets no AWS::Lambda::EventSourceMapping: moto would consume the
queues and table streams itself (it cannot run the functions, so SQS messages
end in their dead-letter queues and stream records are dropped). The local
runner is the only consumer; queue and stream sources come from the template's
SQS and DynamoDB events. Nor does it get AWS::Events::Archive, which moto 5.2.5
cannot create from a template (its EventPattern object raises a TypeError),
and a `Ref` to an AWS::Events::EventBus is sent as its Name attribute, which is
what CloudFormation returns for it (moto's Ref returns an unusable object).

Runs with the repo's .venv (infra/local/ensure-venv.sh); started with another
interpreter that lacks the packages, it re-executes itself with .venv/bin/python.

Usage:
  deploy_stack.py --template template.yaml --endpoint-url http://127.0.0.1:4566 \\
      --stack-name NAME --out .local/stack-NAME.json [--parameter Key=Value ...] [--recreate]
  deploy_stack.py --template template.yaml --describe-only --stack-name NAME --out FILE
      (a stack already deployed to a real account with `sam deploy`; creates and deletes nothing)
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import os
import re
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

VENV_PYTHON = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "python"
DEFAULT_REGION = "eu-central-1"
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
ARTIFACT_BUCKET = "citydesk-local-artifacts"
ARTIFACT_KEY = "placeholder/bootstrap.zip"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
STACK_TIMEOUT_S = 180
# moto creates stacks synchronously: a stack still in progress after this long
# is the leftover of a CreateStack that raised, and is deleted.
STALE_IN_PROGRESS_S = 10
POLL_INTERVAL_S = 0.5
FAILED_STATES = {
    "CREATE_FAILED",
    "ROLLBACK_IN_PROGRESS",
    "ROLLBACK_FAILED",
    "ROLLBACK_COMPLETE",
    "DELETE_FAILED",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_FAILED",
}
SERVERLESS_FUNCTION = "AWS::Serverless::Function"
# Resource types of the transformed template never sent to the emulator, with
# why; they appear under not_emulated like the types moto leaves empty.
NOT_SENT_TYPES = {
    # moto would poll the queues and streams itself: the runner must be their only consumer.
    "AWS::Lambda::EventSourceMapping": "the local runner consumes every queue and stream",
    # moto 5.2.5 passes the EventPattern object to json.loads and fails the CreateStack.
    "AWS::Events::Archive": "moto cannot create it from a template",
}
# moto 5.2.5 gives these types no physical id: a `Ref` to one resolves to the
# Python object (an EventBus in a function's environment makes
# GetFunctionConfiguration fail with a 500). CloudFormation's Ref of these types
# returns the named attribute, so the template sent asks for that attribute,
# and an output of its own (PHYSICAL_ID_OUTPUT + logical id) reports it as the
# physical id.
REF_AS_ATTRIBUTE = {"AWS::Events::EventBus": "Name"}
PHYSICAL_ID_OUTPUT = "DeployStackPhysicalId"
SCHEDULE_EVENT_TYPES = {"Schedule", "ScheduleV2"}
STREAM_DEFAULT_BATCH_SIZE = 100
# Lambda's states of a mapping that polls no more (anything else may be consuming).
MAPPING_DISABLED_STATES = {"Disabled"}
PLACEHOLDER_BOOTSTRAP = "#!/bin/sh\necho 'placeholder: the local runner executes the real binary' >&2\nexit 1\n"


class DeployError(Exception):
    """A failure that ends the script with a message and exit status 1."""


# ------------------------------------------------------------------ arguments


def reexec_in_venv() -> None:
    """Switch to the repo's virtualenv when this interpreter lacks the packages."""
    try:
        import boto3  # noqa: F401
        import samtranslator  # noqa: F401
    except ImportError:
        if VENV_PYTHON.exists() and Path(sys.executable).absolute() != VENV_PYTHON.absolute():
            os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), __file__, *sys.argv[1:]])
        sys.exit("deploy_stack.py: boto3/aws-sam-translator missing; run infra/local/ensure-venv.sh first")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Create (or reuse) the SAM stack on the local AWS-API emulator and write its description as JSON."
    )
    parser.add_argument("--template", required=True, type=Path, help="SAM template (template.yaml)")
    parser.add_argument(
        "--endpoint-url",
        default=None,
        help="emulator URL, e.g. http://127.0.0.1:4566; omit (with --describe-only) for a real account",
    )
    parser.add_argument(
        "--describe-only",
        action="store_true",
        help="never create or delete: describe a stack already deployed (e.g. by sam deploy to a real account)",
    )
    parser.add_argument("--stack-name", required=True, help="CloudFormation stack name")
    parser.add_argument("--out", required=True, type=Path, help="where to write the JSON description")
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="template parameter override (repeatable)",
    )
    parser.add_argument(
        "--recreate",
        action="store_true",
        help="delete the stack first if it exists",
    )
    parser.add_argument(
        "--recreate-if-changed",
        action="store_true",
        help="recreate the stack when it was created from another template or parameters",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=STACK_TIMEOUT_S,
        help=f"seconds to wait for the stack (default {STACK_TIMEOUT_S})",
    )
    return parser.parse_args(argv)


def parse_parameters(pairs: list[str], template: dict[str, Any]) -> dict[str, str]:
    declared = template.get("Parameters") or {}
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise DeployError(f"--parameter wants KEY=VALUE, got {pair!r}")
        if key not in declared:
            raise DeployError(f"--parameter {key}: not a parameter of the template ({', '.join(sorted(declared))})")
        values[key] = value
    return values


def is_local(endpoint_url: str | None) -> bool:
    """True for an emulator on this machine (moto, LocalStack on loopback)."""
    if not endpoint_url:
        return False
    from urllib.parse import urlparse

    host = urlparse(endpoint_url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def ensure_environment(endpoint_url: str | None) -> str:
    """Dummy credentials (emulator only) and a region when none are set; returns the region."""
    if is_local(endpoint_url) and not os.environ.get("AWS_ACCESS_KEY_ID"):
        os.environ.update(DUMMY_CREDENTIALS)
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.pop("AWS_PROFILE", None)
    os.environ.setdefault("AWS_DEFAULT_REGION", DEFAULT_REGION)
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    return os.environ["AWS_DEFAULT_REGION"]


def make_clients(endpoint_url: str | None, region: str) -> dict[str, Any]:
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=region,
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        s3={"addressing_style": "path"},
    )
    return {
        name: boto3.client(name, endpoint_url=endpoint_url, config=config)
        for name in ("cloudformation", "s3", "lambda", "sqs", "dynamodb")
    }


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


# -------------------------------------------------------------------- emulator


def upload_placeholder(s3: Any, region: str) -> str:
    from botocore.exceptions import ClientError

    create_args: dict[str, Any] = {"Bucket": ARTIFACT_BUCKET}
    if region != "us-east-1":
        create_args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**create_args)
    except ClientError as err:
        if err.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        archive.writestr(info, PLACEHOLDER_BOOTSTRAP)
    s3.put_object(Bucket=ARTIFACT_BUCKET, Key=ARTIFACT_KEY, Body=buffer.getvalue())
    return f"s3://{ARTIFACT_BUCKET}/{ARTIFACT_KEY}"


def stack_status(cfn: Any, stack_name: str) -> str | None:
    from botocore.exceptions import ClientError

    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as err:
        if "does not exist" in str(err):
            return None
        raise
    live = [stack for stack in stacks if stack["StackStatus"] != "DELETE_COMPLETE"]
    return live[0]["StackStatus"] if live else None


def failure_reasons(cfn: Any, stack_name: str) -> list[str]:
    from botocore.exceptions import ClientError

    try:
        events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
    except ClientError as err:
        return [f"(no stack events: {err})"]
    reasons = []
    for event in reversed(events):
        reason = event.get("ResourceStatusReason")
        if reason and ("FAILED" in event.get("ResourceStatus", "") or "ROLLBACK" in event.get("ResourceStatus", "")):
            reasons.append(
                f"{event.get('LogicalResourceId')} ({event.get('ResourceType')}): "
                f"{event.get('ResourceStatus')}: {reason}"
            )
    return reasons


def wait_for(cfn: Any, stack_name: str, done: set[str], timeout: float, raise_on_timeout: bool = True) -> str | None:
    """Polls until the stack is gone, in one of `done`, or failed; returns its status."""
    deadline = time.monotonic() + timeout
    while True:
        status = stack_status(cfn, stack_name)
        if status is None or status in done or status in FAILED_STATES:
            return status
        if time.monotonic() >= deadline:
            if raise_on_timeout:
                raise DeployError(f"stack {stack_name} still {status} after {timeout:.0f}s")
            return status
        time.sleep(POLL_INTERVAL_S)


def delete_stack(cfn: Any, stack_name: str, timeout: float) -> None:
    cfn.delete_stack(StackName=stack_name)
    status = wait_for(cfn, stack_name, {"DELETE_COMPLETE"}, timeout)
    if status not in (None, "DELETE_COMPLETE"):
        raise DeployError(f"deleting stack {stack_name} ended in {status}")


def create_stack(cfn: Any, stack_name: str, body: str, parameters: dict[str, str], timeout: float) -> None:
    from botocore.exceptions import ClientError

    try:
        cfn.create_stack(
            StackName=stack_name,
            TemplateBody=body,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(parameters.items())],
            Capabilities=CAPABILITIES,
        )
    except ClientError as err:
        # moto raises from CreateStack when a resource fails and leaves the stack
        # CREATE_IN_PROGRESS; delete it so the next run starts clean.
        reasons = failure_reasons(cfn, stack_name)
        with contextlib.suppress(ClientError):
            cfn.delete_stack(StackName=stack_name)
        raise DeployError("\n  ".join([f"CreateStack {stack_name} failed: {err}", *reasons])) from err
    status = wait_for(cfn, stack_name, {"CREATE_COMPLETE"}, timeout)
    if status != "CREATE_COMPLETE":
        reasons = failure_reasons(cfn, stack_name) or ["(the emulator gave no reason)"]
        raise DeployError("\n  ".join([f"stack {stack_name} ended in {status}:", *reasons]))


def effective_parameters(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, str]:
    """Every declared parameter's value: the override, else the default."""
    values = {}
    for key, declaration in (template.get("Parameters") or {}).items():
        if key in overrides:
            values[key] = overrides[key]
        elif isinstance(declaration, dict) and "Default" in declaration:
            values[key] = str(declaration["Default"])
    return values


def deployed_differs(cfn: Any, stack_name: str, sent: dict[str, Any], parameters: dict[str, str]) -> bool:
    """True when the existing stack was made from another template or parameters.

    `sent` is the template as this script sends it (for_emulator), so a stack
    created before a resource type was withheld counts as changed.
    """
    deployed_body = cfn.get_template(StackName=stack_name).get("TemplateBody")
    if isinstance(deployed_body, str):
        try:
            deployed_body = json.loads(deployed_body)
        except json.JSONDecodeError:
            return True
    if deployed_body != json.loads(json.dumps(sent)):
        return True
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    deployed = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters") or []}
    expected = effective_parameters(sent, parameters)
    masked = "****"  # NoEcho values, should the emulator mask them
    return any(deployed.get(key) not in (value, masked) for key, value in expected.items())


def ensure_stack(
    clients: dict[str, Any],
    stack_name: str,
    sent: dict[str, Any],
    parameters: dict[str, str],
    recreate: bool,
    timeout: float,
    recreate_if_changed: bool = False,
) -> str:
    """Creates the stack from `sent` (for_emulator) unless a complete one can be reused; returns what was done."""
    cfn = clients["cloudformation"]
    settled = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
    status = wait_for(cfn, stack_name, settled, STALE_IN_PROGRESS_S, raise_on_timeout=False)
    if status in ("CREATE_COMPLETE", "UPDATE_COMPLETE") and not recreate:
        changed = deployed_differs(cfn, stack_name, sent, parameters)
        if changed and recreate_if_changed:
            print(f"stack {stack_name} was created from another template: recreating it", file=sys.stderr)
            delete_stack(cfn, stack_name, timeout)
            create_stack(cfn, stack_name, json.dumps(sent, separators=(",", ":")), parameters, timeout)
            return "recreated"
        if changed:
            print(
                f"warning: stack {stack_name} was created from another template or parameters; "
                "run with --recreate to apply the changes",
                file=sys.stderr,
            )
        return "reused"
    if status is not None:
        delete_stack(cfn, stack_name, timeout)
    body = json.dumps(sent, separators=(",", ":"))
    create_stack(cfn, stack_name, body, parameters, timeout)
    return "recreated" if status is not None else "created"


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
            "environment": (config.get("Environment") or {}).get("Variables") or {},
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
) -> dict[str, Any]:
    """The JSON description. from_mappings: a real stack, whose event source mappings hold the source settings."""
    cfn = clients["cloudformation"]
    resources = stack_resources(cfn, stack_name, transformed)
    functions = read_functions(clients["lambda"], specs, resources)
    mappings = list_mappings(clients["lambda"], functions)
    return {
        "stack_name": stack_name,
        "endpoint_url": endpoint_url,
        "region": region,
        "resources": {logical_id: r["physical_id"] for logical_id, r in sorted(resources.items())},
        # Resource types moto's CloudFormation does not create, or that are not
        # sent to it (NOT_SENT_TYPES): the local runner stands in for them (HTTP
        # API routes, schedules, event source mappings) or nothing does (alarms,
        # bucket policy, event archive).
        "not_emulated": {logical_id: r["type"] for logical_id, r in sorted(resources.items()) if not r["emulated"]},
        "outputs": stack_outputs(cfn, stack_name),
        "functions": functions,
        "http_routes": [
            {"method": route["method"], "path": route["path"], "function": logical_id}
            for logical_id, spec in specs.items()
            for route in spec["http"]
        ],
        "queue_sources": read_queue_sources(clients, specs, resources, mappings, from_mappings),
        "stream_sources": read_stream_sources(clients, specs, resources, mappings, from_mappings),
        "schedules": [
            {
                "name": s["name"],
                "function": logical_id,
                "expression": s["expression"],
                "timezone": s["timezone"],
                "input": s["input"],
            }
            for logical_id, spec in specs.items()
            for s in spec["schedules"]
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
    for logical_id, fn in description["functions"].items():
        lines.append(f"  {logical_id:<24} {fn['binary'] or '?':<16} {len(fn['environment'])} env vars")
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
        lines.append(f"  schedule {schedule['name']} {schedule['expression']} -> {schedule['function']}")
    mappings = description["event_source_mappings"]
    enabled = [m for m in mappings if m["enabled"]]
    lines.append(f"  event source mappings: {len(mappings)} ({len(enabled)} enabled)")
    for mapping in enabled:
        lines.append(f"    enabled {mapping['uuid']} {mapping['event_source_arn']} -> {mapping['function']}")
    lines.append(f"written to {out}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    reexec_in_venv()
    from botocore.exceptions import BotoCoreError, ClientError

    if not args.describe_only and not is_local(args.endpoint_url):
        print(
            "deploy_stack.py: only creates stacks on an emulator on this machine (an --endpoint-url on "
            "127.0.0.1 or localhost); for a real account deploy with `sam deploy` and use --describe-only",
            file=sys.stderr,
        )
        return 2
    region = ensure_environment(args.endpoint_url)
    try:
        template = read_template(args.template)
        parameters = parse_parameters(args.parameter, template)
        specs = describe_functions(template)
        clients = make_clients(args.endpoint_url, region)
        if args.describe_only:
            code_uri = f"s3://{ARTIFACT_BUCKET}/{ARTIFACT_KEY}"
            transformed = transform(with_placeholder_code(template, code_uri), parameters)
            status = stack_status(clients["cloudformation"], args.stack_name)
            if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
                raise DeployError(f"stack {args.stack_name} is not deployed and settled (status {status})")
            action = "described"
        else:
            code_uri = upload_placeholder(clients["s3"], region)
            transformed = transform(with_placeholder_code(template, code_uri), parameters)
            action = ensure_stack(
                clients,
                args.stack_name,
                for_emulator(transformed),
                parameters,
                args.recreate,
                args.timeout,
                args.recreate_if_changed,
            )
        description = build_description(
            clients,
            args.stack_name,
            args.endpoint_url or "",
            region,
            specs,
            transformed,
            from_mappings=args.describe_only,
        )
        write_json(args.out, description)
        if not args.describe_only and any(m["enabled"] for m in description["event_source_mappings"]):
            print(
                f"warning: the emulator has enabled event source mappings for stack {args.stack_name} "
                "(created by an older deploy_stack.py?); they consume the queues and streams the local "
                "runner reads: run with --recreate",
                file=sys.stderr,
            )
    except DeployError as err:
        print(f"deploy_stack.py: {err}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as err:
        print(f"deploy_stack.py: emulator at {args.endpoint_url}: {err}", file=sys.stderr)
        return 1
    print(summary(description, action, args.out), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
