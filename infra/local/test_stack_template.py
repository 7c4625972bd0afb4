"""Resolver works out template values as CloudFormation would, offline.

Run: .venv/bin/python -m unittest discover -s infra/local -p 'test_*.py'
"""

import pathlib
import unittest

from stack_template import NO_VALUE, Resolver, Unresolved, describe_functions, read_template

ROOT = pathlib.Path(__file__).resolve().parents[2]

TEMPLATE = {
    "Parameters": {
        "Email": {"Type": "String", "Default": ""},
        "Origins": {"Type": "String", "Default": ""},
        "Days": {"Type": "Number", "Default": 90},
    },
    "Conditions": {
        "HasEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Email"}, ""]}]},
        "HasBoth": {"Fn::And": [{"Condition": "HasEmail"}, {"Fn::Not": [{"Fn::Equals": [{"Ref": "Origins"}, ""]}]}]},
    },
    "Resources": {
        "Topic": {"Type": "AWS::SNS::Topic"},
        "Dlq": {"Type": "AWS::SQS::Queue"},
        "Subscription": {"Type": "AWS::SNS::Subscription", "Condition": "HasEmail"},
    },
}
PSEUDO = {"AWS::StackName": "s", "AWS::Region": "eu-central-1", "AWS::Partition": "aws", "AWS::AccountId": "1"}
PHYSICAL = {
    "Topic": "arn:aws:sns:eu-central-1:1:s-Topic-X",
    "Dlq": "https://sqs.eu-central-1.amazonaws.com/1/s-Dlq-Y",
    "Subscription": None,
}


def resolver(**parameters):
    return Resolver(TEMPLATE, parameters, PSEUDO, PHYSICAL)


class ResolverTests(unittest.TestCase):
    def test_parameters_fall_back_to_their_defaults_as_strings(self):
        self.assertEqual(resolver().resolve({"Ref": "Days"}), "90")
        self.assertEqual(resolver(Days="30").resolve({"Ref": "Days"}), "30")

    def test_conditions_follow_the_parameters(self):
        self.assertEqual(resolver().conditions(), {"HasEmail": False, "HasBoth": False})
        self.assertEqual(resolver(Email="a@b.c").conditions(), {"HasEmail": True, "HasBoth": False})
        self.assertEqual(resolver(Email="a@b.c", Origins="https://x").conditions(), {"HasEmail": True, "HasBoth": True})

    def test_a_resource_with_a_false_condition_is_not_included(self):
        self.assertFalse(resolver().included(TEMPLATE["Resources"]["Subscription"]))
        self.assertTrue(resolver(Email="a@b.c").included(TEMPLATE["Resources"]["Subscription"]))
        self.assertTrue(resolver().included(TEMPLATE["Resources"]["Topic"]))

    def test_if_with_no_value_drops_the_key_or_item(self):
        value = {
            "Cors": {"Fn::If": ["HasEmail", {"AllowOrigins": {"Fn::Split": [",", {"Ref": "Origins"}]}}, {"Ref": "AWS::NoValue"}]},
            "Actions": [{"Ref": "Topic"}, {"Fn::If": ["HasEmail", "x", {"Ref": "AWS::NoValue"}]}],
        }
        self.assertEqual(resolver().resolve(value), {"Actions": [PHYSICAL["Topic"]]})
        self.assertEqual(
            resolver(Email="a@b.c", Origins="https://a,https://b").resolve(value),
            {"Cors": {"AllowOrigins": ["https://a", "https://b"]}, "Actions": [PHYSICAL["Topic"], "x"]},
        )
        self.assertIs(resolver().resolve({"Ref": "AWS::NoValue"}), NO_VALUE)

    def test_attributes_and_sub(self):
        r = resolver()
        self.assertEqual(r.resolve({"Fn::GetAtt": ["Dlq", "QueueName"]}), "s-Dlq-Y")
        self.assertEqual(r.resolve({"Fn::GetAtt": "Dlq.Arn"}), "arn:aws:sqs:eu-central-1:1:s-Dlq-Y")
        self.assertEqual(r.resolve({"Fn::Sub": "/aws/lambda/${AWS::StackName}-x ${Dlq.QueueName} ${!Literal}"}), "/aws/lambda/s-x s-Dlq-Y ${Literal}")
        self.assertEqual(r.resolve({"Fn::Sub": ["${A}-${Days}", {"A": {"Ref": "Topic"}}]}), PHYSICAL["Topic"] + "-90")

    def test_what_it_cannot_work_out_raises(self):
        with self.assertRaises(Unresolved):
            resolver().resolve({"Fn::GetAtt": ["Topic", "Nonsense"]})
        with self.assertRaises(Unresolved):
            resolver().resolve({"Ref": "Subscription"})  # no physical id
        with self.assertRaises(Unresolved):
            resolver().resolve({"Fn::ImportValue": "x"})


class RealTemplateTests(unittest.TestCase):
    def test_the_daily_report_runs_in_the_city_time_zone(self):
        template = read_template(ROOT / "template.yaml")
        schedule = next(s for s in describe_functions(template)["ReportFunction"]["schedules"] if s["name"] == "DailyReport")
        self.assertEqual(Resolver(template, {}).resolve(schedule["timezone"]), "Europe/Warsaw")
        self.assertEqual(Resolver(template, {"CityTimeZone": "Europe/Berlin"}).resolve(schedule["timezone"]), "Europe/Berlin")

    def test_a_function_subscribed_to_a_topic_is_described_with_that_topic(self):
        template = read_template(ROOT / "template.yaml")
        described = describe_functions(template)["IntakeSmsSnsFunction"]
        self.assertEqual(described["binary"], "intake-sms-sns")
        self.assertEqual(described["sns"], [{"topic": "InboundSmsTopic"}])
        self.assertEqual(describe_functions(template)["NotifyFunction"]["sns"], [])


if __name__ == "__main__":
    unittest.main()
