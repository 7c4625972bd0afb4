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
        for name in ["pass.yaml", "pass-stream-partial-batch.yaml", "pass-log-retention.yaml"]:
            with self.subTest(fixture=name):
                self.assertEqual(problems(name), [])

    def test_each_failing_fixture_fails_its_rule_only(self):
        for rule in [
            "visibility",
            "partial-batch",
            "dlq",
            "secrets",
            "iam-wildcards",
            "stream-partial-batch",
            "log-retention",
            "dlq-alarm",
            "alarm-actions",
            "index-reads",
        ]:
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

    def test_an_asynchronous_invocations_destination_is_a_dead_letter_queue_too(self):
        self.assertEqual(
            problems("fail-dlq-async-on-failure.yaml"),
            ["dlq: dead-letter queue FailedInvocations has no CloudWatch alarm"],
        )

    def test_log_retention_names_each_function_without_a_kept_log_group(self):
        self.assertEqual(
            problems("fail-log-retention.yaml"),
            [
                "log-retention: NoGroup has no log group of its own (LoggingConfig.LogGroup: !Ref a AWS::Logs::LogGroup with RetentionInDays)",
                "log-retention: NoRetention logs to ForeverLogs, which has no RetentionInDays (its logs would be kept forever)",
                "log-retention: WrongName logs to OtherLogs named '/aws/lambda/${AWS::StackName}-other', not '/aws/lambda/${AWS::StackName}-wrong-name'",
                "log-retention: Elsewhere has no log group of its own (LoggingConfig.LogGroup: !Ref a AWS::Logs::LogGroup with RetentionInDays)",
            ],
        )

    def test_a_dead_letter_alarm_needs_actions_on_the_queue_depth(self):
        self.assertEqual(
            problems("fail-dlq-alarm.yaml"),
            ["dlq-alarm: dead-letter queue Dlq has no alarm with AlarmActions on its depth (ApproximateNumberOfMessagesVisible)"],
        )

    def test_a_dead_letter_alarm_without_actions_fails_both_alarm_rules(self):
        text = (HERE / "fixtures" / "pass.yaml").read_text(encoding="utf-8")
        template = yaml_parse(text)
        del template["Resources"]["DlqAlarm"]["Properties"]["AlarmActions"]
        self.assertEqual(
            template_rules.check(template),
            [
                "alarm-actions: alarm DlqAlarm has no AlarmActions (nobody is told when it fires)",
                "dlq-alarm: dead-letter queue Dlq has no alarm with AlarmActions on its depth (ApproximateNumberOfMessagesVisible)",
            ],
        )

    def test_every_alarm_tells_someone(self):
        self.assertEqual(
            problems("fail-alarm-actions.yaml"),
            [
                "alarm-actions: alarm Silent has no AlarmActions (nobody is told when it fires)",
                "alarm-actions: alarm Disabled disables its actions (ActionsEnabled: false)",
            ],
        )

    def test_the_real_template_passes(self):
        text = (HERE / ".." / ".." / "template.yaml").read_text(encoding="utf-8")
        self.assertEqual(template_rules.check(yaml_parse(text)), [])


    def test_the_real_template_alarms_on_every_function_queue_and_the_table(self):
        text = (HERE / ".." / ".." / "template.yaml").read_text(encoding="utf-8")
        resources = yaml_parse(text)["Resources"]
        watched = {
            (props.get("MetricName"), template_rules.ref_name(d.get("Value")))
            for r in resources.values()
            if r.get("Type") == "AWS::CloudWatch::Alarm"
            for props in [r.get("Properties", {})]
            for d in props.get("Dimensions", [])
        }
        for name, r in resources.items():
            with self.subTest(resource=name):
                if r.get("Type") == "AWS::Serverless::Function":
                    self.assertIn(("Errors", name), watched)
                    self.assertIn(("Throttles", name), watched)
                elif r.get("Type") == "AWS::SQS::Queue" and "RedrivePolicy" in r.get("Properties", {}):
                    self.assertIn(("ApproximateAgeOfOldestMessage", name), watched)
                elif r.get("Type") == "AWS::DynamoDB::Table":
                    self.assertIn(("ReadThrottleEvents", name), watched)
                    self.assertIn(("WriteThrottleEvents", name), watched)


if __name__ == "__main__":
    unittest.main()
