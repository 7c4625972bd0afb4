#!/usr/bin/env python3
"""Create the SAM stack of template.yaml on the local AWS-API emulator.

The template is the one list of resources: this script transforms it offline
with aws-sam-translator, creates it as a CloudFormation stack on moto server,
and writes a JSON description a local runner can use (physical names, each
function's environment as the emulator resolved it, HTTP routes, queue and
stream sources and schedules).

moto's CloudFormation creates tables (with streams), queues, buckets, IAM
roles, event buses, log groups, SNS topics and Lambda functions with resolved
environment variables, so those are read back from the emulator. It leaves the
HTTP API (AWS::ApiGatewayV2::*) and EventBridge schedules
(AWS::Scheduler::Schedule) as empty resources, so routes and schedules come
from the template itself (their parameter references, such as the daily
report's `!Ref CityTimeZone`, worked out from the stack's parameter values).
It leaves the staff sign-in's Cognito user pool, client and groups empty
(the local runner runs a development issuer instead: infra/local/src/dev_issuer.rs).
It leaves CloudWatch alarms and SNS subscriptions empty too; this script then
puts them through the CloudWatch and SNS APIs (stack_api_resources.py).
Resources whose Condition is false are left out of the description.

The emulator gets no AWS::Lambda::EventSourceMapping: moto would consume the
queues and table streams itself (it cannot run the functions, so SQS messages
end in their dead-letter queues and stream records are dropped). The local
runner is the only consumer; queue and stream sources come from the template's
SQS and DynamoDB events. Nor does it get AWS::Events::Archive, which moto 5.2.5
cannot create from a template (its EventPattern object raises a TypeError),
and a `Ref` to an AWS::Events::EventBus is sent as its Name attribute, which is
what CloudFormation returns for it (moto's Ref returns an unusable object).

The template side (reading, describing, transforming, what the emulator is
given, working out intrinsic values) is in stack_template.py; reading back
what was created and writing the description is in stack_description.py.

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
import io
import json
import os
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from stack_api_resources import put_api_resources
from stack_description import build_description, stack_resolver, stack_resources, summary, write_json
from stack_template import (
    DeployError,
    describe_functions,
    for_emulator,
    parameter_values,
    read_template,
    transform,
    with_placeholder_code,
)

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
# Resource types of the transformed template never sent to the emulator, with
# why; they appear under not_emulated like the types moto leaves empty.
# moto 5.2.5 gives these types no physical id: a `Ref` to one resolves to the
# Python object (an EventBus in a function's environment makes
# GetFunctionConfiguration fail with a 500). CloudFormation's Ref of these types
# returns the named attribute, so the template sent asks for that attribute,
# and an output of its own (PHYSICAL_ID_OUTPUT + logical id) reports it as the
# physical id.
# Lambda's states of a mapping that polls no more (anything else may be consuming).
PLACEHOLDER_BOOTSTRAP = "#!/bin/sh\necho 'placeholder: the local runner executes the real binary' >&2\nexit 1\n"


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
        for name in ("cloudformation", "s3", "lambda", "sqs", "dynamodb", "cloudwatch", "sns")
    }


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
    return parameter_values(template, overrides)


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
        api_created: dict[str, str] = {}
        if not args.describe_only:
            # Alarms and subscriptions, which moto's CloudFormation leaves empty.
            resources = stack_resources(clients["cloudformation"], args.stack_name, transformed)
            resolver = stack_resolver(clients["cloudformation"], args.stack_name, region, transformed, resources)
            physical_ids = {logical_id: r["physical_id"] for logical_id, r in resources.items()}
            api_created = put_api_resources(clients, args.stack_name, transformed, physical_ids, resolver)
        description = build_description(
            clients,
            args.stack_name,
            args.endpoint_url or "",
            region,
            specs,
            transformed,
            from_mappings=args.describe_only,
            api_created=api_created,
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
