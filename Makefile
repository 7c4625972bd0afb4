# citydesk task runner. `make run` starts the whole system locally; `make test` runs every test.

.PHONY: run test lint fuzz bench bench-brain bench-pipeline bench-kb bench-channels fmt

## run: the whole system on 127.0.0.1:3000 against a local AWS-API emulator (Ctrl-C stops)
run:
	infra/local/run.sh

## test: unit, adapter (emulator) and end-to-end tests; installs and starts what it needs
test:
	infra/local/test.sh

## lint: formatting, clippy, the template linters (cfn-lint, sam validate --lint) and the project's template rules
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	infra/local/ensure-venv.sh --lint
	.venv/bin/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=eu-central-1 .venv/bin/sam validate --lint
	.venv/bin/python -m unittest discover -s infra/lint -p 'test_*.py'
	.venv/bin/python -m unittest discover -s infra/local -p 'test_*.py'
	.venv/bin/python infra/lint/template_rules.py template.yaml

## fuzz: cargo fuzz on the SMS webhook's form and signature and on e-mail's MIME, 5 minutes each (FUZZ_SECONDS)
fuzz:
	infra/local/fuzz.sh long

## bench: throughput, cold start and binary size figures (prints a table)
bench:
	infra/bench/run.sh

## bench-pipeline: POST -> assigned before and after the outbox, items read per routed request at 100 and 20,000 a day
bench-pipeline:
	infra/bench/pipeline.sh

## bench-brain: import rows/s and memory, classifier quality beside scikit-learn, classification + routing speed
bench-brain:
	infra/bench/brain.sh

## bench-kb: knowledge-base search quality (40 residents' phrasings, top 1 and top 3) and speed, per way of matching
bench-kb:
	cargo run --release -p citydesk-bench --bin citydesk-kb-bench

## bench-channels: one message's handling time in process per channel (SMS webhook, SMS status, e-mail, IVR)
bench-channels:
	cargo run --release -p citydesk-bench --bin citydesk-channels-bench

fmt:
	cargo fmt --all
