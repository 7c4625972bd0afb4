"""Each project rule passes its passing fixture and fails its failing one."""
import pathlib
import unittest

from samtranslator.yaml_helper import yaml_parse

import template_rules

HERE = pathlib.Path(__file__).parent


def problems(name):
    return template_rules.check(yaml_parse((HERE / "fixtures" / name).read_text(encoding="utf-8")))


class TemplateRules(unittest.TestCase):
    def test_passing_fixtures_pass(self):
        for name in ["pass.yaml", "pass-stream-partial-batch.yaml"]:
            with self.subTest(fixture=name):
                self.assertEqual(problems(name), [])

    def test_each_failing_fixture_fails_its_rule_only(self):
        for rule in ["visibility", "partial-batch", "dlq", "secrets", "iam-wildcards", "stream-partial-batch"]:
            with self.subTest(rule=rule):
                found = problems(f"fail-{rule}.yaml")
                self.assertTrue(found, rule)
                self.assertTrue(all(p.startswith(rule + ":") for p in found), found)

    def test_stream_partial_batch_names_each_missing_setting(self):
        self.assertEqual(
            problems("fail-stream-partial-batch.yaml"),
            [
                "stream-partial-batch: Fn event TableStream does not report batch item failures",
                "stream-partial-batch: Fn event TableStream does not bisect a failing batch (BisectBatchOnFunctionError: true)",
                "stream-partial-batch: Fn event TableStream has no finite MaximumRetryAttempts (a record would be retried until it expires)",
                "stream-partial-batch: Fn event TableStream has no DestinationConfig.OnFailure destination for the records it gives up on",
                "stream-partial-batch: Fn event KinesisStream does not bisect a failing batch (BisectBatchOnFunctionError: true)",
                "stream-partial-batch: Fn event KinesisStream has no finite MaximumRetryAttempts (a record would be retried until it expires)",
            ],
        )

    def test_an_on_failure_destination_is_a_dead_letter_queue_that_needs_an_alarm(self):
        self.assertEqual(
            problems("fail-dlq-on-failure.yaml"),
            ["dlq: dead-letter queue FailedRecords has no CloudWatch alarm"],
        )

    def test_the_real_template_passes(self):
        text = (HERE / ".." / ".." / "template.yaml").read_text(encoding="utf-8")
        self.assertEqual(template_rules.check(yaml_parse(text)), [])


if __name__ == "__main__":
    unittest.main()
